-- languages: per detected language and script: documents, bytes, how confident the detection is, how many documents look mixed, and how many were dropped
-- params: min_docs
-- defaults: min_docs=1
-- types: min_docs=integer>=0
SELECT l.lang, l.script,
       count(*) AS docs,
       sum(d.n_bytes) AS n_bytes,
       round(avg(l.lang_score), 3) AS mean_score,
       round(quantile_cont(l.lang_score, 0.1), 3) AS p10_score,
       round(quantile_cont(l.lang_score, 0.5), 3) AS median_score,
       round(quantile_cont(l.lang_score, 0.9), 3) AS p90_score,
       count(*) FILTER (WHERE l.lang_score < 0.5) AS docs_score_below_0_5,
       count(*) FILTER (WHERE l.lang_mix LIKE '%,%') AS docs_mixed_lines,
       count(*) FILTER (WHERE l.drop_reason IS NOT NULL) AS dropped
FROM langid l JOIN documents d USING (doc_id)
GROUP BY ALL
HAVING count(*) >= $min_docs
ORDER BY docs DESC, l.lang, l.script
