-- recorded_fits: the fit_docs__<model> artifacts: the fitted models that recorded their fit documents
SELECT table_name FROM artifacts WHERE starts_with(table_name, 'fit_docs__')
