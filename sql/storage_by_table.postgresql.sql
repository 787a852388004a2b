-- Bytes on disk per obs table and its indexes (TOASTed content included), largest first.
SELECT c.relname AS name,
       CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS kind,
       pg_total_relation_size(c.oid) - CASE WHEN c.relkind = 'i' THEN 0 ELSE pg_indexes_size(c.oid) END AS bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
  AND c.relkind IN ('r', 'i')
  AND c.relname NOT LIKE 'alembic%'
ORDER BY bytes DESC, name
