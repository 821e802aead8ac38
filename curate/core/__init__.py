"""The bottom layer of mixlab: shared infrastructure that imports nothing else of curate, train or reports.

- :mod:`curate.core.catalog`: the single writer of ``catalog.duckdb`` (``Catalog``); stage and table schemas
  reach it from the runner (:mod:`curate.core.catalog.declared`), so it never imports a stage.
- :mod:`curate.core.storage`: local paths and fsspec URLs, Parquet in and out.
- :mod:`curate.core.settings`: the ``MIXLAB_*`` environment variables, read in one place.
- :mod:`curate.core.threads`: the thread budget of a process and its workers.
- :mod:`curate.core.workers`: pool workers that die with their driver.
- :mod:`curate.core.display`: printing tables and progress, to a terminal or a log.
- :mod:`curate.core.errors`: the errors the layer raises for a user's mistake.
- :mod:`curate.core.command`: what the three command lines share (run names, messages for user errors).

It imports only itself and :mod:`sql`; ``train`` and ``reports`` take their infrastructure from here and
nowhere else in curate's internals but the libraries they use (mixtures, models). ``tests/test_layout.py``
holds the rule. Why a subpackage of curate and not ``sql/``: ``sql/`` is text plus its loader; the catalog
and storage depend on DuckDB, polars and fsspec, and the project keeps its promised top level.
"""
