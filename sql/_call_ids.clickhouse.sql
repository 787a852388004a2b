-- The ids in the JSON array parameter ids ({{call_ids}}), as a subquery: "c.id IN {{call_ids}}". One parameter
-- for a whole batch.
(SELECT arrayJoin(JSONExtract(:ids, 'Array(String)')))
