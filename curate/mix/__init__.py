"""Mixtures: eval sets first, then designs -> reproducible token-budgeted selections of the curated pool.

- :mod:`curate.mix.emit`: ``MixtureSpec`` -> pool -> selection -> shards + manifest (``curate mix``).
- :mod:`curate.mix.select`: strategies (how a budget is shared among groups) and per-group filling.
- :mod:`curate.mix.groups`: what the groups are: a column, quality buckets, or hash buckets of doc_id.
- :mod:`curate.mix.strata`: matching, i.e. every group filled per stratum of a covariate in the pool's proportions.
- :mod:`curate.mix.tokens`: token counts (and ids) of pool documents (bytes/4 or the run's tokenizer).
- :mod:`curate.mix.write`: stream the chosen rows to Parquet shards with bounded memory.
- :mod:`curate.mix.eval_split`: held-out eval sets and decontamination (``--eval-split``, a recipe's
  ``eval_split:``), and :func:`curate.mix.eval_split.fit_problems` (fits that saw eval documents).
- :mod:`curate.mix.containment`: an eval passage inside a longer document (word n-gram containment).
- :mod:`curate.mix.designs`: designs as data (line, k-of-K subsets, Dirichlet, factorial vary).
- :mod:`curate.mix.balance`: covariate balance of a design, rerandomization, measured balance.
- :mod:`curate.mix.covariates`: per-mixture covariates (``mixture_covariates``).
- :mod:`curate.mix.alignment`: each eval document under the mixture's n-gram LM (``mixture_alignment``).
- :mod:`curate.mix.sweep`: a family of mixtures for one ablation or designed study (``curate mix sweep``).
"""
