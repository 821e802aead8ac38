-- study_groups: the groups any study-arm mixture of a sweep draws from
-- params: sweep_id
SELECT DISTINCT unnest(groups) AS g FROM mixture_design WHERE sweep_id = $sweep_id AND arm = 'study'
