-- table_exists: 1 when the catalog has a table or view of this name, else 0
-- params: table
SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $table
