"""Exact, near-duplicate and boilerplate detection: the algorithms of ``exact_dedup``, ``minhash_dedup`` and ``line_dedup``.

- :mod:`curate.dedup.shingles`: normalized word or character n-grams and their hashes (compiled).
- :mod:`curate.dedup.sha1`: SHA-1 of a byte span (datasketch's default shingle hash), compiled.
- :mod:`curate.dedup.minhash`: MinHash signatures identical to ``datasketch``.
- :mod:`curate.dedup.lsh`: LSH banding and duplicate clustering, out of core.
- :mod:`curate.dedup.lines`: lines or paragraphs shared by many documents, hashed and removed (CCNet-style).
- :mod:`curate.dedup.shared`: what exact and near-dup removal share (ordinals, keep policies, outputs).
"""
