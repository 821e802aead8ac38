-- contamination: does any mixture contain an eval document, a recorded duplicate of one, or an identical text? (should be empty)
-- params:
-- Recorded duplicates (exact normalized hash or MinHash-verified Jaccard) are in table `contamination`;
-- the third check compares raw texts directly, independently of that table.
WITH eval_docs AS (
    SELECT e.eval_set, e.doc_id, d.text FROM eval_sets e JOIN documents d USING (doc_id)
),
mixed AS (
    SELECT DISTINCT md.mixture_id, md.doc_id FROM mixture_docs md
),
same_text AS MATERIALIZED (  -- first the few documents sharing an eval text, then the mixtures holding them
    SELECT d.doc_id, e.doc_id AS eval_doc_id, e.eval_set
    FROM documents d JOIN eval_docs e ON d.text = e.text
    WHERE e.doc_id <> d.doc_id
)
SELECT m.mixture_id, e.eval_set, m.doc_id, e.doc_id AS eval_doc_id, 'eval document in mixture' AS problem
FROM mixed m JOIN eval_sets e USING (doc_id)
UNION ALL
SELECT m.mixture_id, e.eval_set, m.doc_id, c.eval_doc_id, 'duplicate of eval document (' || c.method || ')' AS problem
FROM mixed m JOIN contamination c USING (doc_id) JOIN eval_sets e ON e.doc_id = c.eval_doc_id
UNION ALL
SELECT m.mixture_id, s.eval_set, m.doc_id, s.eval_doc_id, 'same text as eval document' AS problem
FROM mixed m JOIN same_text s USING (doc_id)
ORDER BY 1, 2, 3, 4
