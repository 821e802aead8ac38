-- still_improving: finished runs still improving at the end: how many, of how many, the largest tail gain
SELECT count(*) FILTER (WHERE converged = false) AS n, count(*) AS total,
       max(tail_gain) FILTER (WHERE converged = false) AS worst
FROM train_runs WHERE status = 'done'
