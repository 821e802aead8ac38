-- try_design: the designed mixtures, study arm first (printed by the demo for the user to try)
SELECT mixture_id, arm, factor_value, groups FROM mixture_design ORDER BY arm DESC, factor_value
