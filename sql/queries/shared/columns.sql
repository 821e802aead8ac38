-- columns: no rows, only the columns of a view (named by sql_ident)
-- splices: view
SELECT * FROM {view} LIMIT 0
