-- primary_preset: the preset with the most finished runs in a sweep (then the smallest)
-- params: sweep_id
SELECT preset FROM train_runs WHERE status = 'done' AND sweep_id = $sweep_id GROUP BY preset
ORDER BY count(*) DESC, min(n_params), preset LIMIT 1
