-- fitted_stages: the stages that fitted a model on documents (topics; quality_model when it trained one)
SELECT stage FROM stages WHERE stage = 'topics' OR (stage = 'quality_model' AND json_type(params->'train') = 'OBJECT')
