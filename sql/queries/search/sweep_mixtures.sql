-- sweep_mixtures: the mixtures emitted with a sweep_id (a search's proxies and validation arms)
-- params: sweep_id
SELECT mixture_id FROM mixtures WHERE sweep_id = $sweep_id
