"""Privacy and retention: what is stored per feature (full, redacted, sampled, metadata only), hashed user ids,
the offline Presidio analyzer, and the retention job."""
