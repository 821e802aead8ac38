-- scale_agreement: the stored check whether the mixture ranking transfers to a larger preset
SELECT * FROM scale_agreement
