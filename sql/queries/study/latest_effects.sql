-- latest_effects: the effects of the latest analysed study, arms and analyses in the given order
-- params: order
SELECT * FROM study_effects
WHERE sweep_id = (SELECT sweep_id FROM study_effects ORDER BY computed_at DESC LIMIT 1)
ORDER BY arm DESC, list_position($order, analysis), step_frac
