"""mixlab's curation package: raw text -> curated shards, a DuckDB catalog, mixtures.

The parts, in the order data flows through them (each package's ``__init__`` lists its modules):

- :mod:`curate.ingest`: raw inputs -> ``docs/part-*.parquet`` plus counted rejects.
- :mod:`curate.stage` (the contract) and :mod:`curate.stages` (one module per stage): the extension point.
- :mod:`curate.dedup`, :mod:`curate.rules`, :mod:`curate.models`, :mod:`curate.diversity`: the
  algorithms, rule sets and learned models the stages call.
- :mod:`curate.pipeline`: recipes, the runner and the executors that run stages over shards.
- :mod:`curate.catalog`: the single writer of ``catalog.duckdb`` (``curate.catalog.Catalog``); with
  storage, settings, threads and display, the infrastructure at the bottom: it imports nothing above it.
- :mod:`curate.mix`: eval sets, then token-budgeted mixtures and sweeps.
- :mod:`curate.demo`: the whole loop on text found on this machine.
- :mod:`curate.cli`: the ``curate`` command, one module per command group.

Shared by all of them: :mod:`curate.text` (the one normalization), :mod:`curate.storage` (paths and
URLs), :mod:`curate.threads` (thread budget), :mod:`curate.workers` (pool workers that die with their driver), :mod:`curate.errors` (a name a run lacks), :mod:`curate.settings` (``MIXLAB_*`` variables) and
:mod:`curate.display` (printing tables). There is no import cycle anywhere (``tests/test_layout.py``).
"""
