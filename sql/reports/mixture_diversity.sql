-- mixture_diversity: every diversity metric of every mixture, one row per mixture and metric, unrounded, with its 95% interval (the x of `reports correlate`)
-- params: sweep_id, metric
-- defaults: sweep_id=NULL, metric=NULL
SELECT m.mixture_id, m.sweep_id, d.metric, d.value, d.ci_low, d.ci_high, d.n_docs, d.sample_size
FROM mixtures m JOIN diversity d ON d.scope_kind = 'mixture' AND d.scope_id = m.mixture_id
WHERE ($sweep_id IS NULL OR m.sweep_id = $sweep_id) AND ($metric IS NULL OR d.metric = $metric)
ORDER BY m.mixture_id, d.metric
