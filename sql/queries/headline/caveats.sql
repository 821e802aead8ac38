-- caveats: of a sweep's finished runs at a preset: how many were still improving, how many did not learn, of how many
-- params: sweep_id, preset
SELECT count(*) FILTER (WHERE converged IS DISTINCT FROM true) AS still,
       count(*) FILTER (WHERE learned IS DISTINCT FROM true) AS unlearned, count(*) AS n
FROM train_runs WHERE status = 'done' AND sweep_id = $sweep_id AND preset = $preset
