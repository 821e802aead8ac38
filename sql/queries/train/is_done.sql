-- is_done: 1 when a training run finished, else 0
-- params: train_id
SELECT count(*) AS n FROM train_runs WHERE train_id = $train_id AND status = 'done'
