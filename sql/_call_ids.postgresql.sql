-- The ids in the JSON array parameter ids ({{call_ids}}), as a subquery: "c.id IN {{call_ids}}". One parameter
-- for a whole batch: binding it costs nothing per id.
(SELECT jsonb_array_elements_text(CAST(:ids AS JSONB)))
