-- fixed: model size, token budget and how many budgets the finished runs of a preset (and sweep) used
-- params: preset, sweep_id
SELECT any_value(n_params) AS params, any_value(tokens) AS tokens, count(DISTINCT tokens) AS budgets
FROM train_runs WHERE status = 'done' AND preset = $preset AND ($sweep_id IS NULL OR sweep_id = $sweep_id)
