"""The offline demo: a demo provider (``provider`` serves what ``replies`` decides) and a demo app that uses obs."""
