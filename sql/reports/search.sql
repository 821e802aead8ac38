-- search: mixture searches (train search): per search and validation mixture (chosen, uniform, natural, best proxy) its weights, predicted and actual target, chosen minus it with a 95% CI over seeds, and the regression's CV and held-out agreement
-- params: search_id
-- defaults: search_id=NULL
-- cv_spearman / cv_mae: the chosen regressor's mean over folds (search_folds has every model and fold);
-- heldout_spearman: proxies never used in fitting. difference = chosen minus this arm's target (negative:
-- the chosen mixture is better); its CI uses the pooled seed sd of every validation arm (seed_sd).
SELECT s.search_id, s.target, s.grouping, s.preset, s.tokens, s.n_proxies, s.n_heldout, s.n_not_learned, s.model,
       round(s.cv_spearman, 3) AS cv_spearman, round(s.cv_mae, 4) AS cv_mae,
       round(s.heldout_spearman, 3) AS heldout_spearman, round(s.heldout_mae, 4) AS heldout_mae,
       p.role AS arm, p.mixture_id, p.weights, round(p.predicted, 4) AS predicted, round(p.actual, 4) AS actual, p.n_runs,
       round(c.difference, 4) AS chosen_minus_arm, round(c.ci_low, 4) AS ci_low, round(c.ci_high, 4) AS ci_high,
       round(s.seed_sd, 4) AS seed_sd
FROM search_runs s
LEFT JOIN search_predictions p ON p.search_id = s.search_id AND p.role IN ('chosen', 'uniform', 'natural', 'best_proxy')
LEFT JOIN search_comparisons c ON c.search_id = s.search_id AND c.baseline = p.role
WHERE $search_id IS NULL OR s.search_id = $search_id
ORDER BY s.search_id, list_position(['chosen', 'uniform', 'natural', 'best_proxy'], p.role)
