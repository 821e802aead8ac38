-- dup_clusters: which duplicate clusters are largest, by method, with the kept document and a short example of each
-- params: method, limit
-- defaults: method=NULL, limit=20
-- types: limit=integer>=0
SELECT c.method,
       c.cluster_id,
       c.cluster_size,
       k.source AS kept_source,
       left(regexp_replace(k.text, '\s+', ' ', 'g'), 120) AS kept_example,
       left(regexp_replace(any_value(d.text) FILTER (WHERE NOT c.is_kept), '\s+', ' ', 'g'), 120) AS dropped_example
FROM dup_clusters c
JOIN documents d ON d.doc_id = c.doc_id
JOIN documents k ON k.doc_id = c.cluster_id
WHERE $method IS NULL OR c.method = $method
GROUP BY ALL
ORDER BY c.cluster_size DESC, c.method, c.cluster_id
LIMIT $limit
