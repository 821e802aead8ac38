-- confounds: the confound covariates of a sweep's mixtures (long: mixture_id, name, value)
-- params: sweep_id
SELECT c.mixture_id, c.name, c.value FROM mixture_covariates c JOIN mixture_design d USING (mixture_id)
WHERE d.sweep_id = $sweep_id AND c.role = 'confound'
