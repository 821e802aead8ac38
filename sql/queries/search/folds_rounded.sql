-- folds_rounded: per regressor of a search: its folds, mean and worst Spearman and mean absolute error, rounded for the terminal
-- params: search_id
SELECT model, chosen, count(*) AS folds, round(avg(spearman), 3) AS spearman, round(min(spearman), 3) AS min_spearman,
       round(avg(mae), 4) AS mae
FROM search_folds WHERE search_id = $search_id GROUP BY ALL ORDER BY spearman DESC NULLS LAST
