-- run_config: what rebuilds a training run's model: its preset, seed, tokenizer hash and config
-- params: train_id
SELECT preset, seed, tokenizer_hash, config FROM train_runs WHERE train_id = $train_id
