"""mixlab's curation package: raw text -> curated shards, a DuckDB catalog, mixtures.

The parts, bottom layer first, then in the order data flows (each package's ``__init__`` lists its modules):

- :mod:`curate.core`: the infrastructure every other part and ``train``/``reports`` stand on: the catalog
  (the single writer of ``catalog.duckdb``), storage, settings, threads, workers, display, errors and the
  command-line plumbing. It imports nothing of curate above it, nor train or reports.
- :mod:`curate.text`: the one text normalization.
- :mod:`curate.ingest`: raw inputs -> ``docs/part-*.parquet`` plus counted rejects.
- :mod:`curate.stage` (the contract) and :mod:`curate.stages` (one module per stage): the extension point.
- :mod:`curate.dedup`, :mod:`curate.rules`, :mod:`curate.models`, :mod:`curate.diversity`: the
  algorithms, rule sets and learned models the stages call.
- :mod:`curate.pipeline`: recipes, the runner and the executors that run stages over shards.
- :mod:`curate.mix`: eval sets, then token-budgeted mixtures and sweeps.
- :mod:`curate.demo`: the whole loop on text found on this machine (the top: only the CLI imports it).
- :mod:`curate.cli`: the ``curate`` command, one module per command group.

There is no import cycle anywhere, and the layers hold (``tests/test_layout.py``).
"""
