"""The run machinery: a recipe -> ingest, then each stage over the shards, resumable.

- :mod:`curate.pipeline.recipe`: recipe YAML -> validated pydantic models.
- :mod:`curate.pipeline.runner`: ``curate run``: ingest, then each stage, recorded in the catalog.
- :mod:`curate.pipeline.executor`: shard-atomic map and reduce in a local process pool.
- :mod:`curate.pipeline.executor_ray`: the same tasks on a Ray cluster.
- :mod:`curate.pipeline.kernels`: the stages' numba kernels compiled once per run, while ingest runs.
- :mod:`curate.pipeline.shards`: a shard's surviving documents with the columns a stage needs.
- :mod:`curate.pipeline.progress`: progress bars and summary lines.
"""
