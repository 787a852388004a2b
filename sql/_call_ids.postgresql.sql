-- The calls whose ids are in the JSON array parameter ids ({{call_ids}}).
id IN (SELECT jsonb_array_elements_text(CAST(:ids AS JSONB)))
