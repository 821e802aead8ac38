-- diversity: every diversity metric of every scope, side by side with its 95% interval and sample size
-- params: scope_kind, metric
-- defaults: scope_kind=NULL, metric=NULL
SELECT scope_kind, scope_id, metric, round(value, 4) AS value, round(ci_low, 4) AS ci_low, round(ci_high, 4) AS ci_high,
       n_docs, sample_size
FROM diversity
WHERE ($scope_kind IS NULL OR scope_kind = $scope_kind) AND ($metric IS NULL OR metric = $metric)
ORDER BY scope_kind, scope_id, metric
