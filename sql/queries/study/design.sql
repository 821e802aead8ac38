-- design: a sweep's designed mixtures, by id
-- params: sweep_id
SELECT * FROM mixture_design WHERE sweep_id = $sweep_id ORDER BY mixture_id
