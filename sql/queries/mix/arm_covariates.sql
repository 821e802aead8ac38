-- arm_covariates: per mixture of one arm of a sweep: its factor value, spec and the named covariates (all: every confound)
-- params: sweep_id, arm, all, names
SELECT d.mixture_id, d.factor_value, c.name, c.value, m.spec
FROM mixture_design d JOIN mixture_covariates c USING (mixture_id) JOIN mixtures m USING (mixture_id)
WHERE d.sweep_id = $sweep_id AND d.arm = $arm AND ($all OR list_contains(CAST($names AS VARCHAR[]), c.name))
  AND (NOT $all OR c.role = 'confound')
ORDER BY d.mixture_id, c.name
