-- run_values: each of the given finished runs' mean bits per byte over the given eval sets (runs scored on all of them)
-- params: ids, sets
SELECT r.train_id, r.mixture_id, r.learned, avg(e.value) AS value, count(*) AS n_sets
FROM train_runs r JOIN evals e USING (train_id)
WHERE r.status = 'done' AND list_contains($ids, r.train_id) AND e.metric = 'bpb' AND list_contains($sets, e.eval_set)
GROUP BY ALL HAVING count(*) = len($sets) ORDER BY r.train_id
