-- folds: per regressor of a search: its cross-validation folds, mean and worst Spearman, mean absolute error
-- params: search_id
SELECT model, chosen, count(*) AS folds, avg(spearman) AS mean_spearman, min(spearman) AS min_spearman, avg(mae) AS mean_mae
FROM search_folds WHERE search_id = $search_id GROUP BY ALL ORDER BY mean_spearman DESC NULLS LAST
