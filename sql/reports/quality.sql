-- quality: per quality rule: its threshold, how many documents fail it (alone, first, and with which other rule most), the quantiles of its signal, and the documents nearest its threshold on either side
-- params: rule
-- defaults: rule=NULL
WITH rules AS (
    -- thresholds as the run resolved them (every rule; recorded in stages.params); a rule reads the
    -- signal named like it, minus a _min/_max suffix
    SELECT key AS rule, regexp_replace(key, '_(min|max)$', '') AS signal, value::DOUBLE AS threshold
    FROM stages, json_each(params->'thresholds')
    WHERE stage = 'quality_rules' AND ($rule IS NULL OR key = $rule)
),
signals AS (
    UNPIVOT (SELECT * EXCLUDE (drop_reason, quality_failed) FROM quality_rules)
    ON COLUMNS(* EXCLUDE (doc_id)) INTO NAME signal VALUE value
),
fails AS (
    SELECT doc_id, quality_failed NOT LIKE '%,%' AS alone, unnest(string_split(quality_failed, ',')) AS rule
    FROM quality_rules WHERE quality_failed IS NOT NULL
),
fail_counts AS (
    SELECT rule, count(*) AS n_failed, count(*) FILTER (WHERE alone) AS n_failed_alone FROM fails GROUP BY rule
),
pair_counts AS (
    SELECT a.rule, b.rule AS other, count(*) AS n
    FROM fails a JOIN fails b ON a.doc_id = b.doc_id AND a.rule <> b.rule GROUP BY ALL
),
top_overlap AS (
    SELECT rule, arg_max(other, (n, other)) AS overlaps_most_with, max(n) AS n_overlap FROM pair_counts GROUP BY rule
),
drops AS (
    SELECT replace(reason, 'quality_rules.', '') AS rule, count(*) AS n_dropped
    FROM decisions WHERE stage = 'quality_rules' GROUP BY 1
),
quantiles AS (
    SELECT signal, count(value) AS n_docs,
           quantile_cont(value, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q
    FROM signals GROUP BY signal
),
near AS (
    -- per rule, the document just below and just above the threshold (ties: smaller doc_id)
    SELECT r.rule,
           arg_min(s.doc_id, (r.threshold - s.value, s.doc_id)) FILTER (WHERE s.value <= r.threshold) AS below_doc,
           max(s.value) FILTER (WHERE s.value <= r.threshold) AS below_value,
           arg_min(s.doc_id, (s.value - r.threshold, s.doc_id)) FILTER (WHERE s.value > r.threshold) AS above_doc,
           min(s.value) FILTER (WHERE s.value > r.threshold) AS above_value
    FROM rules r JOIN signals s USING (signal)
    GROUP BY r.rule
)
SELECT r.rule, r.signal, r.threshold,
       coalesce(f.n_failed, 0) AS n_failed,
       coalesce(f.n_failed_alone, 0) AS n_failed_alone,
       coalesce(d.n_dropped, 0) AS n_dropped_first,
       o.overlaps_most_with, o.n_overlap,
       q.n_docs,
       round(q.q[1], 4) AS p05, round(q.q[2], 4) AS p25, round(q.q[3], 4) AS p50,
       round(q.q[4], 4) AS p75, round(q.q[5], 4) AS p95,
       n.below_value, left(regexp_replace(db.text, '\s+', ' ', 'g'), 120) AS below_example,
       n.above_value, left(regexp_replace(da.text, '\s+', ' ', 'g'), 120) AS above_example
FROM rules r
LEFT JOIN fail_counts f USING (rule)
LEFT JOIN drops d USING (rule)
LEFT JOIN top_overlap o USING (rule)
LEFT JOIN quantiles q USING (signal)
LEFT JOIN near n USING (rule)
LEFT JOIN documents db ON db.doc_id = n.below_doc
LEFT JOIN documents da ON da.doc_id = n.above_doc
ORDER BY n_failed DESC, r.rule
