"""The recorder: the in-process queue the SDK hands events to, the writer thread that prices, redacts and stores
them in batches, and the spool that keeps every record the database cannot take yet."""
