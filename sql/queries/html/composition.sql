-- composition: tokens per mixture and group
SELECT mixture_id, group_key, n_tokens FROM mixture_composition ORDER BY 1, 2
