-- fits: per fitted model (tokenizer, topics, quality_model), the documents it was fitted on, how many are eval documents of the current split (must be 0) or duplicates of one, the eval split it left out and whether that split is the current one
-- params:
WITH cur AS (
    SELECT max(split_id) AS split_id FROM eval_splits
),
f AS (
    SELECT DISTINCT fit, doc_id, split_id FROM fit_docs
)
SELECT f.fit,
       count(*) AS n_docs,
       count(e.doc_id) AS n_eval_docs_in_fit,
       count(c.doc_id) AS n_contaminated_in_fit,
       min(f.split_id) AS split_id,
       any_value(cur.split_id) AS current_split_id,
       bool_and(f.split_id IS NOT DISTINCT FROM cur.split_id) AS current
FROM f
CROSS JOIN cur
LEFT JOIN (SELECT DISTINCT doc_id FROM eval_sets) e ON e.doc_id = f.doc_id
LEFT JOIN (SELECT DISTINCT doc_id FROM contamination) c ON c.doc_id = f.doc_id
GROUP BY f.fit
ORDER BY f.fit
