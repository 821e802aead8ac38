-- design_by_arm: a sweep's designed mixtures, study arm first, by factor value
-- params: sweep_id
SELECT * FROM mixture_design WHERE sweep_id = $sweep_id ORDER BY arm DESC, factor_value, mixture_id
