-- mixture_path: where a mixture's files are, relative to the run folder
-- params: mixture_id
SELECT path FROM mixtures WHERE mixture_id = $mixture_id
