"""Alignment of each eval document to a mixture: its cross-entropy under the mixture's n-gram LM.

How close is an eval set to what a mixture trains on? A mixture that happens to contain text like the
eval set scores it well for reasons that have nothing to do with diversity. This module fits an
interpolated Kneser–Ney token n-gram model (:mod:`curate.models.ngram`, order 3) on the mixture's
training tokens (the run's BPE ids of every chosen document, followed by EOS, repeats counted) and
scores every eval document exactly as the trainer does (the text of
:func:`curate.mix.eval_split.eval_texts` with ``MAX_EVAL_CHARS``; ``EOS ids EOS``, every token after the
first EOS predicted). Rows go to ``mixture_alignment(mixture_id, eval_set, doc_id, nll_bits, n_bytes)``;
sum(nll_bits) / sum(n_bytes) over a set is the n-gram model's bits per byte, the baseline a study
compares the Transformer with.

It needs the run's tokenizer and reserved eval sets; :func:`alignment_for` says why when it cannot run.
Eval texts are tokenized once per :class:`Alignment` and pool documents once per sweep (:class:`DocTokens`).
"""

from __future__ import annotations

import polars as pl

from curate.core.catalog import Catalog
from curate.mix.eval_split import MAX_EVAL_CHARS, eval_texts
from curate.mix.tokens import TOKENIZER_FILE, DocTokens
from curate.models.ngram import fit_docs

ORDER = 3
SCHEMA = {"eval_set": pl.String, "doc_id": pl.String, "nll_bits": pl.Float64, "n_bytes": pl.Int64}


class Alignment:
    """The eval documents, tokenized once, scored under one n-gram model per mixture."""

    def __init__(self, cat: Catalog, tokens: DocTokens, order: int = ORDER) -> None:
        self.tokens, self.order = tokens, order
        sets = eval_texts(cat, None, MAX_EVAL_CHARS)
        self.eval_set = [name for name, s in sets.items() for _ in s.doc_ids]
        self.doc_ids = [d for s in sets.values() for d in s.doc_ids]
        texts = [t for s in sets.values() for t in s.texts]
        self.n_bytes = [len(t.encode("utf-8")) for t in texts]
        self.eval_ids = tokens.encode(texts)

    def score(self, cat: Catalog, chosen: pl.DataFrame) -> pl.DataFrame:
        """mixture_alignment rows (without mixture_id) for a mixture's chosen documents (doc_id, repeats)."""
        docs = self.tokens.ids(cat, chosen["doc_id"].to_list())
        model = fit_docs(docs, chosen["repeats"].to_numpy(), self.order, self.tokens.vocab_size)
        bits = model.doc_bits(self.eval_ids)
        return pl.DataFrame({"eval_set": self.eval_set, "doc_id": self.doc_ids, "nll_bits": bits, "n_bytes": self.n_bytes},
                            schema=SCHEMA)

    def summary(self, rows: pl.DataFrame) -> dict:
        """For the manifest: the model and its bits per byte on each eval set."""
        per_set = rows.group_by("eval_set").agg((pl.col("nll_bits").sum() / pl.col("n_bytes").sum()).alias("bpb")).sort("eval_set")
        return {"model": f"interpolated Kneser-Ney, order {self.order}", "tokenizer": f"tokenizer:{self.tokens.sha256}",
                "eval_docs": rows.height, "bits_per_byte": {k: round(float(v), 10) for k, v in per_set.iter_rows()}}


def alignment_for(cat: Catalog, tokens: DocTokens | None = None) -> Alignment | str:
    """An :class:`Alignment` for the run, or the reason there is none (no tokenizer, no eval sets)."""
    if not (cat.run_dir / TOKENIZER_FILE).exists():
        return f"no run tokenizer ({TOKENIZER_FILE}); train it with `train tokenizer`"
    if cat.ask("mix/eval_docs")["n"][0] == 0:
        return "no eval sets reserved (`curate mix eval-split`)"
    return Alignment(cat, tokens or DocTokens(cat.run_dir))

