-- scale_agreement: the stored scale-transfer checks, per target and larger preset
SELECT * EXCLUDE (computed_at) FROM scale_agreement ORDER BY target DESC, preset_large
