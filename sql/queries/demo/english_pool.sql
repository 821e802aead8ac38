-- english_pool: the English pool a demo study draws from: kept, not eval, not contaminated documents
SELECT doc_id, source, n_bytes FROM doc_signals
WHERE dropped_by IS NULL AND lang = 'en'
  AND doc_id NOT IN (SELECT doc_id FROM eval_sets) AND doc_id NOT IN (SELECT doc_id FROM contamination)
ORDER BY doc_id
