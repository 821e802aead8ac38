"""Mixtures: eval sets first, then reproducible token-budgeted selections of the curated pool.

- :mod:`curate.mix.emit`: ``MixtureSpec`` -> pool -> selection -> shards + manifest (``curate mix``).
- :mod:`curate.mix.select`: strategies (how a budget is shared among groups) and per-group filling.
- :mod:`curate.mix.tokens`: token counts of pool documents (bytes/4 or the run's tokenizer).
- :mod:`curate.mix.write`: stream the chosen rows to Parquet shards with bounded memory.
- :mod:`curate.mix.eval_split`: held-out eval sets and decontamination (``--eval-split``, a recipe's
  ``eval_split:``), and :func:`curate.mix.eval_split.fit_problems` (fits that saw eval documents).
- :mod:`curate.mix.containment`: an eval passage inside a longer document (word n-gram containment).
- :mod:`curate.mix.sweep`: a family of mixtures for one ablation (``curate mix sweep``).
"""
