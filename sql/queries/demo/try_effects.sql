-- try_effects: the study's final effects per arm and analysis (printed by the demo for the user to try)
SELECT analysis, arm, estimate, ci_low, ci_high, p_value, verdict FROM study_effects WHERE step_frac = 1 ORDER BY arm DESC, analysis
