-- eval_docs: how many eval documents are reserved
SELECT count(*) AS n FROM eval_sets
