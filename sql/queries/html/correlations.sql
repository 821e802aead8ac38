-- correlations: every stored correlation, the primary preset (the first one stored) first
SELECT * EXCLUDE (computed_at) FROM correlations
ORDER BY preset = (SELECT preset FROM correlations ORDER BY rowid LIMIT 1) DESC, preset, target DESC, p_perm NULLS LAST, metric
