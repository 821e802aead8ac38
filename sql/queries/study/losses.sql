-- losses: per-document eval losses of a sweep's finished runs at a preset, at each step as a fraction of the last
-- params: sweep_id, preset
WITH runs AS (SELECT train_id, mixture_id FROM train_runs WHERE status = 'done' AND sweep_id = $sweep_id AND preset = $preset),
     last AS (SELECT train_id, max(step) AS final FROM eval_doc_losses JOIN runs USING (train_id) GROUP BY 1)
SELECT l.train_id, r.mixture_id, round(l.step / last.final, 3) AS step_frac, l.eval_set, l.doc_id, l.nll_bits, l.n_bytes
FROM eval_doc_losses l JOIN runs r USING (train_id) JOIN last USING (train_id)
