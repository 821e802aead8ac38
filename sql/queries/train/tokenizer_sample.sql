-- tokenizer_sample: a seeded sample of the kept documents (eval documents hidden by the caller) to fit the tokenizer on
-- params: seed, limit
SELECT doc_id, text FROM kept_documents ORDER BY hash(doc_id || $seed) LIMIT $limit
