"""mixlab's curation package: ingest, stages, catalog, mixtures."""
