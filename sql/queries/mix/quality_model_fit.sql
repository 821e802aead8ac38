-- quality_model_fit: whether the quality model was found useful, why, and its AUC
SELECT useful, reason, auc FROM quality_model_fit LIMIT 1
