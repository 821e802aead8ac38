-- training_curve: the loss curve of one training run (or of all), step by step, with learning rate and throughput
-- params: train_id, sweep_id
-- defaults: train_id=NULL, sweep_id=NULL
SELECT c.train_id, r.mixture_id, r.seed, c.step, c.tokens, c.lr, c.train_loss, c.val_loss, c.tokens_per_s
FROM train_curve c JOIN train_runs r USING (train_id)
WHERE ($train_id IS NULL OR c.train_id = $train_id) AND ($sweep_id IS NULL OR r.sweep_id = $sweep_id)
ORDER BY c.train_id, c.step
