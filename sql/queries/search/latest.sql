-- latest: the latest searches, newest first
-- params: limit
SELECT * FROM search_runs ORDER BY created_at DESC LIMIT $limit
