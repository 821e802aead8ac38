-- topics: how big each topic is, what its distinctive terms are, and which languages and sources it holds
-- params: limit
-- defaults: limit=50
-- types: limit=integer>=0
WITH per_topic AS (
    SELECT t.topic_id, count(*) AS docs, round(avg(t.topic_distance), 3) AS mean_distance,
           string_agg(DISTINCT d.source, ', ' ORDER BY d.source) AS sources
    FROM topics t JOIN documents d USING (doc_id) GROUP BY 1
),
langs AS (
    SELECT t.topic_id, string_agg(l.lang || ':' || l.n, ', ' ORDER BY l.n DESC, l.lang) AS languages
    FROM (SELECT t.topic_id, l.lang, count(*) AS n FROM topics t JOIN langid l USING (doc_id) GROUP BY ALL) l
    JOIN (SELECT DISTINCT topic_id FROM topics) t USING (topic_id) GROUP BY 1
)
SELECT p.topic_id, p.docs, p.mean_distance, tl.terms, lg.languages, p.sources
FROM per_topic p LEFT JOIN topic_labels tl USING (topic_id) LEFT JOIN langs lg USING (topic_id)
ORDER BY p.docs DESC, p.topic_id
LIMIT $limit
