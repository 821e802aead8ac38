-- outcomes: the stored per-mixture outcomes of a study
-- params: sweep_id
SELECT * FROM study_outcomes WHERE sweep_id = $sweep_id
