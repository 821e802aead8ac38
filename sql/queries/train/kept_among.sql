-- kept_among: how many of the given doc_ids are kept documents
-- params: ids
SELECT count(*) AS n FROM kept_documents WHERE doc_id IN (SELECT unnest($ids::VARCHAR[]))
