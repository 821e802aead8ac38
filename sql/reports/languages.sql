-- languages: how many documents and bytes each detected language has, and how confident the detection is
-- params: min_docs
-- defaults: min_docs=1
SELECT l.lang, l.script,
       count(*) AS docs,
       sum(d.n_bytes) AS n_bytes,
       round(avg(l.lang_score), 3) AS mean_score,
       round(quantile_cont(l.lang_score, 0.1), 3) AS p10_score,
       round(quantile_cont(l.lang_score, 0.5), 3) AS median_score,
       count(*) FILTER (WHERE l.drop_reason IS NOT NULL) AS dropped
FROM langid l JOIN documents d USING (doc_id)
GROUP BY ALL
HAVING count(*) >= $min_docs
ORDER BY docs DESC, l.lang
