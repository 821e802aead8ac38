-- columns: no rows, only the columns of a view (its name fixed in the caller, or quoted by sql_ident)
-- splices: view
SELECT * FROM {view} LIMIT 0
