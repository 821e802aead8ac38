-- design: the study arm of a sweep: how many mixtures, the fewest and most seeds, the factor levels
-- params: sweep_id, preset
SELECT count(DISTINCT d.mixture_id) AS n, min(r.seeds) AS lo, max(r.seeds) AS hi,
       list(DISTINCT d.factor_value ORDER BY d.factor_value) AS levels
FROM mixture_design d
JOIN (SELECT mixture_id, count(*) AS seeds FROM train_runs WHERE status = 'done' AND preset = $preset GROUP BY 1) r USING (mixture_id)
WHERE d.sweep_id = $sweep_id AND d.arm = 'study'
