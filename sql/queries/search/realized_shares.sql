-- realized_shares: each of the given mixtures' realized token share of each group
-- params: ids
SELECT mixture_id, group_key, n_tokens / sum(n_tokens) OVER (PARTITION BY mixture_id) AS share
FROM mixture_composition WHERE list_contains($ids, mixture_id)
