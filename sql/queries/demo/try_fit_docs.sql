-- try_fit_docs: per fitted model, its documents and how many of them are eval documents (printed by the demo for the user to try)
SELECT fit, count(*) AS docs, count(*) FILTER (WHERE doc_id IN (SELECT doc_id FROM eval_sets)) AS eval_docs FROM fit_docs GROUP BY 1
