-- runs: every command that changed the run, oldest first (curate status)
SELECT command, status, started_at, finished_at FROM runs ORDER BY started_at
