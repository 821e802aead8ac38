-- contamination: does any mixture contain an eval document or a pool document that duplicates one? (should be empty)
-- params:
SELECT md.mixture_id, e.eval_set, md.doc_id, 'eval document in mixture' AS problem
FROM mixture_docs md JOIN eval_sets e USING (doc_id)
UNION ALL
SELECT md.mixture_id, e.eval_set, md.doc_id, 'duplicate of eval document (' || c.method || ')' AS problem
FROM mixture_docs md JOIN contamination c USING (doc_id) JOIN eval_sets e ON e.doc_id = c.eval_doc_id
ORDER BY 1, 2, 3
