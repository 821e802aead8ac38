-- mixture_confounds: per mixture, the properties a design factor might stand in for: tokens, documents, length, tokens per byte, epochs, duplicates, quality, language and script shares, user covariates
-- params: sweep_id
-- defaults: sweep_id=NULL
-- Weighted by repeats (what training sees). The covariates come from mixture_covariates (recorded when the
-- mixture was emitted, curate/mix/covariates.py): one column per built-in name (NULL when not recorded, e.g.
-- mean_quality when the quality model is not useful), and MAP columns lang_shares, script_shares and
-- user_covariates for the open-ended families (lang_shares['en']). mean_quality_score and quality_fail_frac
-- are the older direct measures (quality_fail_frac counts documents failing any quality rule, dropped or not).
WITH cov AS (
    SELECT mixture_id,
           max(value) FILTER (WHERE name = 'tokens_per_byte') AS tokens_per_byte,
           max(value) FILTER (WHERE name = 'mean_doc_tokens') AS mean_doc_tokens,
           max(value) FILTER (WHERE name = 'unique_tokens') AS unique_tokens,
           max(value) FILTER (WHERE name = 'epochs') AS epochs,
           max(value) FILTER (WHERE name = 'repeat_rate') AS repeat_rate,
           max(value) FILTER (WHERE name = 'near_dup_frac') AS near_dup_frac,
           max(value) FILTER (WHERE name = 'mean_quality') AS mean_quality,
           map(list(name[12:] ORDER BY name) FILTER (WHERE name LIKE 'lang_share:%'), list(value ORDER BY name) FILTER (WHERE name LIKE 'lang_share:%')) AS lang_shares,
           map(list(name[14:] ORDER BY name) FILTER (WHERE name LIKE 'script_share:%'), list(value ORDER BY name) FILTER (WHERE name LIKE 'script_share:%')) AS script_shares,
           map(list(name[6:] ORDER BY name) FILTER (WHERE role = 'user'), list(value ORDER BY name) FILTER (WHERE role = 'user')) AS user_covariates
    FROM mixture_covariates
    GROUP BY mixture_id
), docs AS (
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
)
SELECT docs.*, cov.* EXCLUDE (mixture_id)
FROM docs
LEFT JOIN cov USING (mixture_id)
ORDER BY docs.mixture_id
