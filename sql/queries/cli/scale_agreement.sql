-- scale_agreement: the stored scale-transfer checks, as `reports correlate` prints them
SELECT * EXCLUDE (computed_at) FROM scale_agreement
