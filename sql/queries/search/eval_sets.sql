-- eval_sets: every eval set with its group and kind
SELECT DISTINCT eval_set, group_key, kind FROM eval_sets ORDER BY eval_set
