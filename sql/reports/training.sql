-- training: every training run with its mixture, size, speed, how its loss fell (start, half-way, best, final), the learned and converged checks and its eval bits per byte
-- params: sweep_id, preset
-- defaults: sweep_id=NULL, preset=NULL
WITH curve AS (
    SELECT train_id, count(*) AS curve_points, max(step) AS steps,
           arg_min(train_loss, step) AS first_train_loss,
           arg_min(train_loss, abs(step - 0.5 * (SELECT max(step) FROM train_curve c2 WHERE c2.train_id = c.train_id))) AS mid_train_loss,
           min(val_loss) AS best_val_loss
    FROM train_curve c GROUP BY train_id
),
ev AS (
    SELECT train_id,
           max(value) FILTER (WHERE eval_set = 'id' AND metric = 'bpb') AS id_bpb,
           max(value) FILTER (WHERE eval_set = 'ood' AND metric = 'bpb') AS ood_bpb
    FROM evals GROUP BY train_id
)
SELECT r.train_id, r.mixture_id, r.sweep_id, r.preset, r.seed, r.tokens, r.n_params, r.device,
       round(r.wall_s, 1) AS wall_s, round(r.tokens_per_s) AS tokens_per_s,
       coalesce(c.curve_points, 0) AS curve_points, c.steps,
       round(c.first_train_loss, 4) AS first_train_loss, round(c.mid_train_loss, 4) AS mid_train_loss,
       round(r.final_train_loss, 4) AS final_train_loss, round(c.best_val_loss, 4) AS best_val_loss,
       round(r.final_val_loss, 4) AS final_val_loss, round(r.unigram_entropy, 4) AS unigram_entropy,
       round(r.loss_below_unigram, 4) AS loss_below_unigram, round(r.tail_gain, 4) AS tail_gain, r.learned, r.converged,
       round(e.id_bpb, 4) AS id_bpb, round(e.ood_bpb, 4) AS ood_bpb
FROM train_runs r LEFT JOIN curve c USING (train_id) LEFT JOIN ev e USING (train_id)
WHERE ($sweep_id IS NULL OR r.sweep_id = $sweep_id) AND ($preset IS NULL OR r.preset = $preset)
ORDER BY r.mixture_id, r.preset, r.seed
