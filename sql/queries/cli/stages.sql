-- stages: every completed stage of the run, in recipe order, with its counts and wall time (curate status)
SELECT position, stage, kind, n_in, n_kept, n_dropped, round(wall_s, 2) AS wall_s, finished_at
FROM stages ORDER BY position
