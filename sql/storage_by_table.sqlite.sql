-- Bytes on disk per obs table and index (SQLite's dbstat), largest first.
SELECT s.name AS name,
       CASE WHEN m.type = 'index' OR s.name LIKE 'sqlite_autoindex%' THEN 'index' ELSE 'table' END AS kind,
       SUM(s.pgsize) AS bytes
FROM dbstat s
LEFT JOIN sqlite_schema m ON m.name = s.name
WHERE s.name NOT LIKE 'alembic%' AND s.name != 'sqlite_schema'
GROUP BY s.name, kind
ORDER BY bytes DESC, name
