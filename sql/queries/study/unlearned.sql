-- unlearned: how many of a sweep's finished runs at a preset did not pass the learned check, of how many
-- params: sweep_id, preset
SELECT count(*) FILTER (WHERE learned IS DISTINCT FROM true) AS bad, count(*) AS n FROM train_runs
WHERE status = 'done' AND sweep_id = $sweep_id AND preset = $preset
