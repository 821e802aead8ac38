-- sweep_mixtures: every mixture of a sweep, by name: those emitted with its sweep_id and every arm of its design
-- params: sweep_id
SELECT mixture_id FROM mixtures
WHERE sweep_id = $sweep_id OR mixture_id IN (SELECT mixture_id FROM mixture_design WHERE sweep_id = $sweep_id)
ORDER BY name, mixture_id
