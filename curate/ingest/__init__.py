"""Ingest: raw inputs (JSONL, .gz, .zst, Parquet, text folders, WARC, ARC, HTML) -> ``docs/part-*.parquet`` plus rejects.

- :mod:`curate.ingest.tasks`: plan inputs into tasks (files, byte ranges, text-file batches), pack small
  consecutive tasks into jobs and run one job into its docs shards; the recipe's ``inputs`` and
  ``ingest`` fields.
- :mod:`curate.ingest.readers`: streaming readers, one per format, with line and byte offsets.
- :mod:`curate.ingest.records`: one record -> text, id and metadata, or a counted reject.
- :mod:`curate.ingest.warc`: the WARC/WET reader (FastWARC), damaged records counted and skipped over.
- :mod:`curate.ingest.arc`: the ARC reader (``.arc``, ``.arc.gz``), records shaped like WARC records.
- :mod:`curate.ingest.html`: HTML -> text (charset detection, Resiliparse or Trafilatura); ``ingest.web``.
- :mod:`curate.ingest.web`: a WARC or ARC record, HTML file or HTML field -> text, id and metadata, or a reject.
"""
