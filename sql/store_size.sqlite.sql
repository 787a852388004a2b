-- Bytes of the database file (the WAL file beside it is added by the caller).
SELECT page_count * page_size AS size_bytes FROM pragma_page_count(), pragma_page_size()
