-- alignment: the n-gram LM's per-document losses of a sweep's mixtures, shaped like study/losses (one final 'run' per mixture)
-- params: sweep_id
SELECT a.mixture_id AS train_id, a.mixture_id, 1.0 AS step_frac, a.eval_set, a.doc_id, a.nll_bits, a.n_bytes
FROM mixture_alignment a JOIN mixture_design d USING (mixture_id) WHERE d.sweep_id = $sweep_id
