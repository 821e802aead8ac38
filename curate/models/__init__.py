"""The learned models stages load or fit, each with its own cache and manifest.

- :mod:`curate.models.lid`: find the fastText ``lid.176`` language-ID model (pinned SHA-256).
- :mod:`curate.models.quality`: train a fastText quality classifier (DCLM-style).
- :mod:`curate.models.topics`: hashed TF-IDF -> SVD -> k-means topic model.
- :mod:`curate.models.embeddings`: optional MiniLM sentence embeddings.
- :mod:`curate.models.ngram`: interpolated Kneser–Ney token n-gram LM (per-mixture alignment and baseline).
- :mod:`curate.models.fits`: what every fitted model leaves out (the eval split) and records (``fit_docs``).
"""
