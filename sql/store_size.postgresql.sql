-- Bytes on disk of obs's tables, their indexes and TOASTed content (the rollups and shared texts included).
SELECT pg_total_relation_size('llm_calls') + pg_total_relation_size('llm_call_content')
       + pg_total_relation_size('spans') + pg_total_relation_size('feedback')
       + pg_total_relation_size('eval_cases') + pg_total_relation_size('llm_texts')
       + pg_total_relation_size('rollup_calls') + pg_total_relation_size('rollup_histograms')
       + pg_total_relation_size('rollup_values') AS size_bytes
