-- diversity_vs_generalization: one row per training run: its mixture's diversity metrics and simple confounds next to its eval metrics
-- params: sweep_id, preset
-- defaults: sweep_id=NULL, preset=NULL
-- Statistics over these rows (seed means per mixture, correlations, CIs): `reports correlate`.
WITH div AS (
    SELECT scope_id AS mixture_id,
           max(value) FILTER (WHERE metric = 'topic_entropy') AS topic_entropy,
           max(value) FILTER (WHERE metric = 'effective_topics') AS effective_topics,
           max(value) FILTER (WHERE metric = 'vendi') AS vendi,
           max(value) FILTER (WHERE metric = 'mean_cosine_distance') AS mean_cosine_distance,
           max(value) FILTER (WHERE metric = 'distinct_2') AS distinct_2,
           max(value) FILTER (WHERE metric = 'ngram_entropy_2') AS ngram_entropy_2,
           max(value) FILTER (WHERE metric = 'compression_ratio') AS compression_ratio,
           max(value) FILTER (WHERE metric = 'mattr') AS mattr,
           max(value) FILTER (WHERE metric = 'source_entropy') AS source_entropy,
           max(value) FILTER (WHERE metric = 'lang_entropy') AS lang_entropy
    FROM diversity WHERE scope_kind = 'mixture' GROUP BY 1
),
size AS (
    SELECT md.mixture_id, sum(d.n_bytes * md.repeats) / sum(md.repeats) AS mean_doc_bytes
    FROM mixture_docs md JOIN documents d USING (doc_id) GROUP BY 1
),
ev AS (
    SELECT train_id,
           max(value) FILTER (WHERE eval_set = 'id' AND metric = 'bpb') AS id_bpb,
           max(value) FILTER (WHERE eval_set = 'ood' AND metric = 'bpb') AS ood_bpb,
           avg(value) FILTER (WHERE metric = 'continuation_acc' AND NOT isnan(value)) AS continuation_acc
    FROM evals GROUP BY 1
)
SELECT r.train_id, r.mixture_id, r.sweep_id, r.preset, r.seed,
       d.* EXCLUDE (mixture_id), s.mean_doc_bytes, e.id_bpb, e.ood_bpb, e.continuation_acc
FROM train_runs r LEFT JOIN div d USING (mixture_id) LEFT JOIN size s USING (mixture_id) LEFT JOIN ev e USING (train_id)
WHERE ($sweep_id IS NULL OR r.sweep_id = $sweep_id) AND ($preset IS NULL OR r.preset = $preset)
ORDER BY r.mixture_id, r.preset, r.seed
