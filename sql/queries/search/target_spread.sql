-- target_spread: the sd of a search's actual target over its proxies (of one regressor) and held-out mixtures
-- params: search_id, model
SELECT stddev_samp(actual) AS sd FROM search_predictions
WHERE search_id = $search_id AND (role = 'heldout' OR (role = 'proxy' AND model = $model))
