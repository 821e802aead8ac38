-- drop_results: drop the stored correlations and scale checks (schema.sql recreates them empty)
DROP TABLE IF EXISTS correlations;
DROP TABLE IF EXISTS scale_agreement;
