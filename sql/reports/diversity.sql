-- diversity: every scope's diversity metrics side by side (one row per scope), Vendi with its 95% interval
-- params: scope_kind
-- defaults: scope_kind=NULL
SELECT scope_kind, scope_id, max(n_docs) AS n_docs, max(sample_size) AS sample_size,
       round(max(value) FILTER (WHERE metric = 'effective_topics'), 3) AS effective_topics,
       round(max(value) FILTER (WHERE metric = 'topic_entropy'), 3) AS topic_entropy,
       round(max(value) FILTER (WHERE metric = 'vendi'), 2) AS vendi,
       max(printf('%.2f-%.2f', ci_low, ci_high)) FILTER (WHERE metric = 'vendi') AS vendi_ci,
       round(max(value) FILTER (WHERE metric = 'mean_cosine_distance'), 3) AS mean_cosine_distance,
       round(max(value) FILTER (WHERE metric = 'distinct_1'), 4) AS distinct_1,
       round(max(value) FILTER (WHERE metric = 'distinct_2'), 4) AS distinct_2,
       round(max(value) FILTER (WHERE metric = 'distinct_3'), 4) AS distinct_3,
       round(max(value) FILTER (WHERE metric = 'distinct_4'), 4) AS distinct_4,
       round(max(value) FILTER (WHERE metric = 'ngram_entropy_2'), 3) AS ngram_entropy_2,
       round(max(value) FILTER (WHERE metric = 'compression_ratio'), 3) AS compression_ratio,
       round(max(value) FILTER (WHERE metric = 'mattr'), 3) AS mattr,
       round(max(value) FILTER (WHERE metric = 'lang_entropy'), 3) AS lang_entropy,
       round(max(value) FILTER (WHERE metric = 'source_entropy'), 3) AS source_entropy,
       round(max(value) FILTER (WHERE metric = 'near_dup_rate'), 4) AS near_dup_rate,
       round(max(value) FILTER (WHERE metric = 'largest_cluster_share'), 4) AS largest_cluster_share
FROM diversity
WHERE $scope_kind IS NULL OR scope_kind = $scope_kind
GROUP BY scope_kind, scope_id
ORDER BY scope_kind, try_cast(scope_id AS INTEGER) NULLS LAST, scope_id
