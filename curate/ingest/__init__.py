"""Ingest: raw inputs (JSONL, .gz, .zst, Parquet, text folders) -> ``docs/part-*.parquet`` plus rejects.

- :mod:`curate.ingest.tasks`: plan inputs into tasks (files, byte ranges, text-file batches), pack small
  consecutive tasks into jobs and run one job into its docs shards; the recipe's ``inputs`` and
  ``ingest`` fields.
- :mod:`curate.ingest.readers`: streaming readers, one per format, with line and byte offsets.
- :mod:`curate.ingest.records`: one record -> text, id and metadata, or a counted reject.
"""
