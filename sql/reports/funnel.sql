-- funnel: per stage, how many documents went in, were kept, dropped (by reason) or rejected at ingest — the sum always closes
-- params:
WITH stage_rows AS (
    SELECT position, stage, n_in, n_kept, n_dropped FROM stages
),
reasons AS (
    SELECT stage, string_agg(reason || '=' || n, ', ' ORDER BY n DESC, reason) AS drop_reasons
    FROM (
        SELECT stage, reason, count(*) AS n FROM decisions GROUP BY ALL
        UNION ALL
        SELECT 'ingest' AS stage, reason, count(*) AS n FROM rejects GROUP BY ALL
    )
    GROUP BY stage
)
SELECT s.position, s.stage, s.n_in AS docs_in, s.n_kept AS kept, s.n_dropped AS dropped,
       coalesce(r.drop_reasons, '') AS drop_reasons
FROM stage_rows s LEFT JOIN reasons r USING (stage)
ORDER BY s.position
