-- eval_set_kinds: per kind of eval set: how many sets and documents (curate mix eval-split)
SELECT kind, count(DISTINCT eval_set) AS sets, count(*) AS docs FROM eval_sets GROUP BY kind ORDER BY kind
