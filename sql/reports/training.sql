-- training: every training run with its mixture, size, tokens, speed, final losses and mean eval bits per byte
-- params: sweep_id
-- defaults: sweep_id=NULL
SELECT r.train_id, r.mixture_id, r.preset, r.seed, r.tokens, r.n_params, r.device, round(r.wall_s, 1) AS wall_s,
       round(r.tokens_per_s) AS tokens_per_s, round(r.final_train_loss, 4) AS train_loss, round(r.final_val_loss, 4) AS val_loss,
       round(max(e.value) FILTER (WHERE e.eval_set = 'id' AND e.metric = 'bpb'), 4) AS id_bpb,
       round(max(e.value) FILTER (WHERE e.eval_set = 'ood' AND e.metric = 'bpb'), 4) AS ood_bpb,
       (SELECT count(*) FROM train_curve c WHERE c.train_id = r.train_id) AS curve_points
FROM train_runs r LEFT JOIN evals e USING (train_id)
WHERE $sweep_id IS NULL OR r.sweep_id = $sweep_id
GROUP BY ALL
ORDER BY r.mixture_id, r.preset, r.seed
