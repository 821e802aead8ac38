-- predicted_vs_actual: a search's predicted and actual targets: every validation arm, and the proxies of one regressor
-- params: search_id, model
SELECT role, predicted, actual FROM search_predictions
WHERE search_id = $search_id AND (role != 'proxy' OR model = $model)
