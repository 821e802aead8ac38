-- confound_values: per arm and mixture of a sweep: its factor value and every recorded confound
-- params: sweep_id
SELECT d.arm, d.factor_value, c.name, c.value
FROM mixture_design d JOIN mixture_covariates c USING (mixture_id)
WHERE d.sweep_id = $sweep_id AND c.role = 'confound' ORDER BY ALL
