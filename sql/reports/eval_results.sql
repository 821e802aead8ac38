-- eval_results: every evaluation of every training run, with the run's mixture, preset, seed, the probe's chance level and whether the run passed the learned check
-- params: sweep_id, eval_set, metric, preset
-- defaults: sweep_id=NULL, eval_set=NULL, metric=NULL, preset=NULL
SELECT r.train_id, r.mixture_id, r.sweep_id, r.preset, r.seed, r.learned, e.eval_set, e.metric, e.value, e.chance, e.n
FROM train_runs r JOIN evals e USING (train_id)
WHERE ($sweep_id IS NULL OR r.sweep_id = $sweep_id) AND ($preset IS NULL OR r.preset = $preset)
  AND ($eval_set IS NULL OR e.eval_set = $eval_set)
  AND ($metric IS NULL OR e.metric = $metric)
ORDER BY r.mixture_id, r.preset, r.seed, e.eval_set, e.metric
