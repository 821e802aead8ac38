-- mixture_sweep: the sweep a mixture was emitted by (NULL: none)
-- params: mixture_id
SELECT sweep_id FROM mixtures WHERE mixture_id = $mixture_id
