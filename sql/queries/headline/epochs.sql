-- epochs: the fewest and most epochs (times each document is seen) over a sweep's study mixtures
-- params: sweep_id
SELECT min(c.value) AS lo, max(c.value) AS hi
FROM mixture_covariates c JOIN mixture_design d USING (mixture_id)
WHERE d.sweep_id = $sweep_id AND d.arm = 'study' AND c.name = 'epochs'
