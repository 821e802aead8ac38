"""Leak-free fits: what every fitted model (topic model, quality classifier, tokenizer) leaves out and records.

A model fitted on eval documents has seen the text it is later judged on: a BPE whose merges fit the eval
text, topics shaped around it, a quality score that means "resembles the eval set". So every fit leaves out
the documents of the current eval split (``eval_sets``) and their duplicates (``contamination``), and says
so twice: in its stored metadata (:meth:`EvalExclusion.manifest`) and as the artifact table
``fit_docs__<fit>(fit, doc_id, split_id)``, which the catalog unions into the view ``fit_docs``. The
``fits`` report and :func:`curate.mix.eval_split.fit_problems` check those rows against the current split.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from curate.core.catalog import Catalog
from curate.text import normalize_expr

FIT_SCHEMA = {"fit": pl.String, "doc_id": pl.String, "split_id": pl.String}
HIDDEN_VIEWS = ("documents", "original_documents", "rewrites", "kept_documents", "doc_signals")  # the views a fit's SQL can reach text or ids through


def fit_table(fit: str) -> str:
    """The artifact table a fit writes its documents to (part of the ``fit_docs`` view)."""
    return f"fit_docs__{fit}"


@dataclass(frozen=True)
class EvalExclusion:
    """The current eval split as a fit sees it: its id (None: no split reserved) and the documents to leave out."""

    split_id: str | None
    eval_ids: pl.Series  # the eval documents
    contaminated_ids: pl.Series  # pool documents that duplicate one (exact, MinHash or containment)

    @property
    def doc_ids(self) -> pl.Series:
        """Every document a fit must not see: eval documents and their duplicates."""
        return pl.concat([self.eval_ids, self.contaminated_ids]).unique().sort().alias("doc_id")

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``frame`` (with a ``doc_id`` column) a fit may use."""
        return frame.join(self.doc_ids.to_frame(), on="doc_id", how="anti")

    def manifest(self, n_removed: int) -> dict[str, Any]:
        """What a fitted model stores about the split it left out; ``n_removed``: candidates it dropped for it."""
        return {"split_id": self.split_id, "n_eval_docs_excluded": self.eval_ids.len(),
                "n_contaminated_excluded": self.contaminated_ids.len(), "n_candidates_removed": n_removed}

    def fit_rows(self, fit: str, doc_ids: pl.Series) -> pl.DataFrame:
        """``fit_docs__<fit>`` rows: the documents ``fit`` was fitted on, with the split it left out."""
        ids = doc_ids.cast(pl.String).drop_nulls().unique().sort()
        return pl.DataFrame({"fit": [fit] * ids.len(), "doc_id": ids, "split_id": [self.split_id] * ids.len()}, schema=FIT_SCHEMA)


def current_split_id(cat: Catalog) -> str | None:
    """The ``split_id`` of the eval split reserved in the catalog; None when none is."""
    rows = cat.execute("SELECT split_id FROM eval_splits WHERE split_id IS NOT NULL")
    return rows[0][0] if rows else None


def eval_exclusion(cat: Catalog) -> EvalExclusion:
    """The current split of the run's catalog (``eval_splits.split_id``, ``eval_sets``, ``contamination``)."""
    evals = cat.query("SELECT DISTINCT doc_id FROM eval_sets ORDER BY doc_id")["doc_id"]
    dups = cat.query("SELECT DISTINCT doc_id FROM contamination WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)"
                     " ORDER BY doc_id")["doc_id"]
    return EvalExclusion(current_split_id(cat), evals.cast(pl.String), dups.cast(pl.String))


@contextmanager
def eval_docs_hidden(cat: Catalog) -> Iterator[None]:
    """Inside the block, the views of ``HIDDEN_VIEWS`` (``documents`` and its text versions, ``kept_documents``,
    ``doc_signals``) leave out eval documents and their duplicates, for any SQL run on ``cat``'s connection
    (e.g. a quality classifier's training sources).

    Temporary views of the same names shadow the catalog's (DuckDB resolves the temp schema first); they
    live on this connection only and work on read-only catalogs too.
    """
    con = cat.con
    db = con.execute("SELECT current_database()").fetchall()[0][0].replace('"', '""')
    hidden = f'SELECT doc_id FROM "{db}".main.eval_sets UNION SELECT doc_id FROM "{db}".main.contamination'
    try:
        for view in HIDDEN_VIEWS:
            con.execute(f'CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM "{db}".main.{view}'
                        f" WHERE doc_id NOT IN ({hidden})")
        yield
    finally:
        for view in HIDDEN_VIEWS:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{view}")


def exact_keys(texts: pl.Series) -> pl.Series:
    """Hash of each normalized text (:func:`curate.text.normalize_expr`): the ``exact`` contamination key."""
    return texts.to_frame("t").select(normalize_expr(pl.col("t")).hash(seed=0)).to_series()


def without_eval_texts(cat: Catalog, texts: pl.Series) -> pl.Series:
    """``texts`` minus those whose normalized text equals an eval document's or a duplicate's: for texts a
    fit reads from files, which the catalog's views cannot hide."""
    hidden = cat.query("SELECT text FROM documents WHERE doc_id IN (SELECT doc_id FROM eval_sets UNION SELECT doc_id FROM contamination)")
    if hidden.height == 0 or texts.len() == 0:
        return texts
    return texts.filter(~exact_keys(texts).is_in(exact_keys(hidden["text"]).implode()))


def fit_doc_ids(cat: Catalog, texts: pl.Series) -> pl.Series:
    """The catalog documents whose text equals one of ``texts`` (what a fit that reads texts was fitted on)."""
    cat.con.register("_mixlab_fit_texts", texts.unique().to_frame("text").to_arrow())
    try:
        return cat.query("SELECT DISTINCT d.doc_id FROM documents d JOIN _mixlab_fit_texts t ON d.text = t.text ORDER BY 1")["doc_id"]
    finally:
        cat.con.unregister("_mixlab_fit_texts")
