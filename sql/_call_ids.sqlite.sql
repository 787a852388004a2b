-- The ids in the JSON array parameter ids ({{call_ids}}), as a subquery: "c.id IN {{call_ids}}". One parameter
-- for a whole batch: binding it costs nothing per id, and SQLite reads the array in C.
(SELECT value FROM json_each(:ids))
