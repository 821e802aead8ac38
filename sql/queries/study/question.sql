-- question: the designed study of a sweep (default: the latest one recorded)
-- params: sweep_id
SELECT * FROM studies WHERE $sweep_id IS NULL OR sweep_id = $sweep_id ORDER BY created_at DESC LIMIT 1
