-- stage_params: the params (JSON) a stage ran with
-- params: stage
SELECT params FROM stages WHERE stage = $stage
