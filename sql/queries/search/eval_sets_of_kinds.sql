-- eval_sets_of_kinds: the eval sets of the given kinds
-- params: kinds
SELECT DISTINCT eval_set FROM eval_sets WHERE list_contains($kinds, kind) ORDER BY 1
