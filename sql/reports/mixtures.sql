-- mixtures: what every mixture is made of and how diverse it is, side by side
-- params: sweep_id
-- defaults: sweep_id=NULL
WITH div AS (
    SELECT scope_id AS mixture_id,
           max(value) FILTER (WHERE metric = 'topic_entropy') AS topic_entropy,
           max(value) FILTER (WHERE metric = 'effective_topics') AS effective_topics,
           max(value) FILTER (WHERE metric = 'vendi') AS vendi,
           max(value) FILTER (WHERE metric = 'distinct_2') AS distinct_2,
           max(value) FILTER (WHERE metric = 'compression_ratio') AS compression_ratio
    FROM diversity WHERE scope_kind = 'mixture' GROUP BY 1
),
comp AS (
    SELECT mixture_id, count(*) AS n_groups,
           string_agg(group_key || ':' || round(weight, 3), ', ' ORDER BY weight DESC, group_key) AS composition
    FROM mixture_composition GROUP BY 1
)
SELECT m.mixture_id, m.sweep_id, m.n_docs, m.n_tokens, m.token_budget,
       round(100.0 * (m.n_tokens - m.token_budget) / m.token_budget, 3) AS budget_error_pct,
       c.n_groups, d.topic_entropy, d.effective_topics, d.vendi, d.distinct_2, d.compression_ratio, c.composition
FROM mixtures m LEFT JOIN comp c USING (mixture_id) LEFT JOIN div d USING (mixture_id)
WHERE $sweep_id IS NULL OR m.sweep_id = $sweep_id
ORDER BY m.sweep_id NULLS LAST, m.name
