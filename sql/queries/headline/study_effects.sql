-- study_effects: the stored effects of a study (default: the latest analysed one)
-- params: sweep_id
SELECT * FROM study_effects
WHERE sweep_id = coalesce($sweep_id, (SELECT sweep_id FROM study_effects ORDER BY computed_at DESC LIMIT 1))
