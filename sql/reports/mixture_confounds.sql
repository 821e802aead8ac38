-- mixture_confounds: per mixture, the simpler properties a diversity metric might stand in for: tokens, unique documents, mean document length, mean quality
-- params: sweep_id
-- defaults: sweep_id=NULL
-- Weighted by repeats (what training sees). mean_quality_score is NULL unless quality_model ran;
-- quality_fail_frac counts documents failing any quality rule (signal), whether or not it dropped them.
SELECT m.mixture_id, m.sweep_id, m.n_tokens,
       coalesce(sum(md.repeats), 0) AS n_docs,
       count(DISTINCT md.doc_id) AS n_unique_docs,
       sum(d.n_bytes * md.repeats) / sum(md.repeats) AS mean_doc_bytes,
       sum(q.quality_score * md.repeats) / sum(md.repeats) FILTER (WHERE q.quality_score IS NOT NULL) AS mean_quality_score,
       sum(md.repeats) FILTER (WHERE r.quality_failed IS NOT NULL) / sum(md.repeats) AS quality_fail_frac
FROM mixtures m
LEFT JOIN mixture_docs md USING (mixture_id)
LEFT JOIN documents d USING (doc_id)
LEFT JOIN quality_model q USING (doc_id)
LEFT JOIN quality_rules r USING (doc_id)
WHERE $sweep_id IS NULL OR m.sweep_id = $sweep_id
GROUP BY ALL
ORDER BY m.mixture_id
