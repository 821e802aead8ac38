-- eval_ids: every eval document by set (what a pool's digest covers, so a new split makes new mixtures)
SELECT eval_set, doc_id FROM eval_sets ORDER BY ALL
