-- quality: how many documents each quality rule dropped, which signals sit near their thresholds, and example documents
-- params: rule
-- defaults: rule=NULL
WITH drops AS (
    SELECT replace(reason, 'quality_rules.', '') AS rule, count(*) AS dropped
    FROM decisions WHERE stage = 'quality_rules' GROUP BY 1
),
examples AS (
    SELECT replace(x.reason, 'quality_rules.', '') AS rule,
           any_value(left(regexp_replace(d.text, '\s+', ' ', 'g'), 160) ORDER BY d.doc_id) AS example
    FROM decisions x JOIN documents d USING (doc_id) WHERE x.stage = 'quality_rules' GROUP BY 1
),
totals AS (SELECT count(*) AS docs_in FROM quality_rules)
SELECT d.rule, d.dropped, round(100.0 * d.dropped / t.docs_in, 2) AS pct_of_input, e.example
FROM drops d CROSS JOIN totals t LEFT JOIN examples e USING (rule)
WHERE $rule IS NULL OR d.rule = $rule
ORDER BY d.dropped DESC, d.rule
