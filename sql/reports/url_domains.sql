-- url_domains: largest registered domains (documents, bytes, hosts) and what the url stage dropped from each, and why
-- params: limit
-- defaults: limit=50
-- types: limit=integer>=0
SELECT coalesce(u.url_domain, '(no url)') AS domain,
       count(*) AS docs,
       sum(d.n_bytes) AS n_bytes,
       count(DISTINCT u.url_host) AS hosts,
       count(*) FILTER (WHERE u.drop_reason IS NOT NULL) AS dropped_by_url,
       array_to_string(list_sort(list(DISTINCT u.drop_reason) FILTER (WHERE u.drop_reason IS NOT NULL)), ', ') AS url_drop_reasons,
       array_to_string(list_sort(list(DISTINCT u.url_blocked_by) FILTER (WHERE u.url_blocked_by IS NOT NULL)), ', ') AS blocked_by
FROM documents d LEFT JOIN url u USING (doc_id)
GROUP BY ALL
ORDER BY docs DESC, domain
LIMIT $limit
