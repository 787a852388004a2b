-- The calls whose ids are in the JSON array parameter ids ({{call_ids}}).
id IN (SELECT value FROM json_each(:ids))
