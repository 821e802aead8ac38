-- mixtures: what every mixture is made of and how diverse it is, side by side
-- params: sweep_id
-- defaults: sweep_id=NULL
-- *_tokens entropies are exact and token-weighted over every row (repeats counted); the other metrics
-- come from the diversity scorer on a seeded sample of the mixture's distinct documents.
WITH div AS (
    SELECT scope_id AS mixture_id,
           max(value) FILTER (WHERE metric = 'group_entropy_tokens') AS group_entropy_tokens,
           max(value) FILTER (WHERE metric = 'topic_entropy_tokens') AS topic_entropy_tokens,
           max(value) FILTER (WHERE metric = 'topic_entropy') AS topic_entropy,
           max(value) FILTER (WHERE metric = 'effective_topics') AS effective_topics,
           max(value) FILTER (WHERE metric = 'vendi') AS vendi,
           max(value) FILTER (WHERE metric = 'distinct_2') AS distinct_2,
           max(value) FILTER (WHERE metric = 'compression_ratio') AS compression_ratio
    FROM diversity WHERE scope_kind = 'mixture' GROUP BY 1
),
comp AS (
    SELECT mixture_id, count(*) AS n_groups, max(max_repeats) AS max_repeats,
           string_agg(group_key || ':' || round(n_tokens / total, 3), ', ' ORDER BY n_tokens DESC, group_key) AS composition
    FROM (SELECT *, sum(n_tokens) OVER (PARTITION BY mixture_id) AS total FROM mixture_composition) GROUP BY 1
)
SELECT m.mixture_id, m.sweep_id, m.n_docs, m.n_tokens, m.token_budget,
       round(100.0 * (m.n_tokens - m.token_budget) / m.token_budget, 3) AS budget_error_pct,
       c.n_groups, c.max_repeats, d.group_entropy_tokens, d.topic_entropy_tokens, d.topic_entropy, d.effective_topics,
       d.vendi, d.distinct_2, d.compression_ratio, c.composition
FROM mixtures m LEFT JOIN comp c USING (mixture_id) LEFT JOIN div d USING (mixture_id)
WHERE $sweep_id IS NULL OR m.sweep_id = $sweep_id
ORDER BY m.sweep_id NULLS LAST, m.name
