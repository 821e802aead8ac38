-- presets: presets with finished runs, the most runs (then fewest parameters) first
SELECT preset, count(*) AS n, min(n_params) AS p FROM train_runs WHERE status = 'done'
GROUP BY preset ORDER BY n DESC, p, preset
