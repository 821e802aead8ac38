-- finished_runs: how many training runs finished
SELECT count(*) AS n FROM train_runs WHERE status = 'done'
