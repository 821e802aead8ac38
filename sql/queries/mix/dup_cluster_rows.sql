-- dup_cluster_rows: how many rows dup_clusters holds (0: the dedup stages did not run or found nothing)
SELECT count(*) AS n FROM dup_clusters
