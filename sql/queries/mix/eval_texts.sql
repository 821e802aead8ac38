-- eval_texts: every eval document's set, kind and text (its first max_chars), at most max_docs per set (the first by md5(doc_id))
-- params: max_docs, max_chars
SELECT e.eval_set, e.kind, e.doc_id, left(d.text, $max_chars) AS text
FROM eval_sets e JOIN documents d USING (doc_id)
QUALIFY $max_docs IS NULL OR row_number() OVER (PARTITION BY e.eval_set ORDER BY md5(e.doc_id)) <= $max_docs
ORDER BY e.eval_set, e.doc_id
