-- not_learned: finished runs that did not pass the learned check (or were never checked), worst first
SELECT train_id, learned, loss_below_unigram, unigram_entropy - bigram_loss AS bigram_gain FROM train_runs
WHERE status = 'done' AND learned IS DISTINCT FROM true ORDER BY loss_below_unigram NULLS FIRST
