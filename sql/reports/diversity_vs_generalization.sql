-- diversity_vs_generalization: one row per training run, its mixture's diversity metrics next to its eval metrics
-- params: sweep_id
-- defaults: sweep_id=NULL
WITH div AS (
    SELECT scope_id AS mixture_id,
           max(value) FILTER (WHERE metric = 'topic_entropy') AS topic_entropy,
           max(value) FILTER (WHERE metric = 'vendi') AS vendi,
           max(value) FILTER (WHERE metric = 'distinct_2') AS distinct_2,
           max(value) FILTER (WHERE metric = 'compression_ratio') AS compression_ratio,
           max(value) FILTER (WHERE metric = 'mattr') AS mattr
    FROM diversity WHERE scope_kind = 'mixture' GROUP BY 1
),
ev AS (
    SELECT train_id,
           max(value) FILTER (WHERE eval_set = 'id' AND metric = 'bpb') AS id_bpb,
           max(value) FILTER (WHERE eval_set = 'ood' AND metric = 'bpb') AS ood_bpb,
           avg(value) FILTER (WHERE metric = 'continuation_acc' AND NOT isnan(value)) AS continuation_acc
    FROM evals GROUP BY 1
)
SELECT r.train_id, r.mixture_id, r.sweep_id, r.preset, r.seed, d.topic_entropy, d.vendi, d.distinct_2, d.compression_ratio, d.mattr,
       e.id_bpb, e.ood_bpb, e.continuation_acc
FROM train_runs r LEFT JOIN div d USING (mixture_id) LEFT JOIN ev e USING (train_id)
WHERE $sweep_id IS NULL OR r.sweep_id = $sweep_id
ORDER BY r.mixture_id, r.preset, r.seed
