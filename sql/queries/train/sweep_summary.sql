-- sweep_summary: per mixture and preset of the given finished runs: seeds, tokens, mean in- and out-of-distribution bits per byte (ood with sd, min and max) and validation loss
-- params: ids
SELECT r.mixture_id, m.name, d.arm, r.preset, count(DISTINCT r.train_id) AS seeds, any_value(r.tokens) AS tokens,
       avg(e.value) FILTER (WHERE e.eval_set = 'id') AS id_bpb,
       avg(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb,
       stddev_samp(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_sd,
       min(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_min,
       max(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_max,
       avg(r.final_val_loss) AS val_loss
FROM train_runs r JOIN mixtures m USING (mixture_id) LEFT JOIN mixture_design d USING (mixture_id)
LEFT JOIN evals e ON e.train_id = r.train_id AND e.metric = 'bpb' AND e.eval_set IN ('id', 'ood')
WHERE r.status = 'done' AND list_contains($ids, r.train_id)
GROUP BY ALL ORDER BY r.preset, ood_bpb
