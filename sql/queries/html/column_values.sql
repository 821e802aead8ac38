-- column_values: every value of one column of a view, as DOUBLE (view and column named by sql_ident)
-- splices: view, column
SELECT {column}::DOUBLE AS v FROM {view}
