-- unlearned: how many finished training runs did not pass the learned check, of how many
SELECT count(*) FILTER (WHERE learned IS DISTINCT FROM true) AS bad, count(*) AS n
FROM train_runs WHERE status = 'done'
