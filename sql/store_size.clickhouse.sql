-- Bytes on disk of obs's tables (their active parts, compressed).
SELECT sum(bytes_on_disk) AS size_bytes
FROM system.parts
WHERE database = currentDatabase() AND active
