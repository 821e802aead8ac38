-- final_step: a training run's last step (steps is NULL in old catalogs: then its curve's last step)
-- params: train_id
SELECT coalesce(any_value(r.steps), max(c.step)) AS step
FROM train_runs r LEFT JOIN train_curve c USING (train_id) WHERE r.train_id = $train_id
