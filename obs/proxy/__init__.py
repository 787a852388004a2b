"""`obs proxy`: a logging proxy for apps that change only their base URL."""
