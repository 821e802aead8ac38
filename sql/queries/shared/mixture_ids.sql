-- mixture_ids: every mixture id, sorted
SELECT mixture_id FROM mixtures ORDER BY 1
