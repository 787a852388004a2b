-- Bytes on disk of obs's tables, their indexes and TOASTed content.
SELECT pg_total_relation_size('llm_calls') + pg_total_relation_size('llm_call_content')
       + pg_total_relation_size('spans') + pg_total_relation_size('feedback')
       + pg_total_relation_size('eval_cases') AS size_bytes
