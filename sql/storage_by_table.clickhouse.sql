-- Bytes on disk per table (active parts, compressed; skip indexes and marks included): ClickHouse keeps no
-- separate index relations, so every row is a table.
SELECT name, kind, size AS bytes
FROM (
    SELECT table AS name, 'table' AS kind, sum(bytes_on_disk) AS size
    FROM system.parts
    WHERE database = currentDatabase() AND active AND table NOT LIKE 'obs_schema%'
    GROUP BY table
)
ORDER BY size DESC, name
