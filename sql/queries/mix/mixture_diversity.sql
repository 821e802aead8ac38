-- mixture_diversity: the diversity metrics measured on one mixture
-- params: mixture_id
SELECT metric, value FROM diversity WHERE scope_kind = 'mixture' AND scope_id = $mixture_id
