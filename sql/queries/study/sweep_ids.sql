-- sweep_ids: the sweeps with a designed study, sorted
SELECT sweep_id FROM studies ORDER BY 1
