"""Held-out evaluation sets and decontamination, before any model is fitted or mixture drawn.

``reserve_eval`` picks, per group, a seeded set of in-distribution eval documents (``id/<group>``) and
holds out whole groups for out-of-distribution evaluation (``ood/<group>``). Then every ingested
document (kept or not, so any later pool is covered) that duplicates an eval document is recorded in
``contamination`` and excluded from every mixture and every fit:

- exact: equal normalized text (:func:`curate.text.normalize_expr`, the dedup normalization);
- near: MinHash signatures as the ``minhash_dedup`` stage computes them (:func:`curate.dedup.minhash.signatures`,
  word 5-grams, 128 permutations), LSH band-matched against the eval documents' bands with a candidate
  threshold 0.1 below ``threshold`` (recall first), then verified with the exact Jaccard of the shingle
  sets (:func:`curate.dedup.shingles.jaccard_pairs`) ≥ ``threshold``;
- containment: at least ``containment`` of an eval document's word 8-grams occur in one pool document,
  i.e. an eval passage inside a longer document (:mod:`curate.mix.containment`).

Documents stream through in batches (bounded memory). ``eval_splits`` records the split's parameters,
its ``split_id`` (a digest of the eval_set/doc_id rows, which every fitted model records: view
``fit_docs``) and a digest of the documents it checked; :func:`check_split_current` refuses to mix from a
catalog whose documents changed since (a new document was never checked), and :func:`fit_problems` lists
fitted models that saw eval documents or were fitted against another split.

A recipe reserves its split with an ``eval_split:`` section (:class:`EvalSplitParams`): ``curate run``
reserves it right before the first stage that fits a model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.core.catalog import Catalog
from curate.dedup.lsh import band_hashes, optimal_bands
from curate.dedup.minhash import signatures
from curate.dedup.shingles import jaccard_pairs, shingle_sets
from curate.mix.containment import ContainmentIndex
from curate.mix.groups import group_sql
from curate.mix.select import seeded_keys
from curate.mix.tokens import TOKENIZER_FILE
from curate.models.fits import current_split_id, exact_keys

NUM_PERM, NGRAM, MINHASH_SEED = 128, 5, 1
BATCH_DOCS = 20_000
SCHEMA = {"eval_doc_id": pl.String, "doc_id": pl.String, "method": pl.String, "similarity": pl.Float64}
MAX_EVAL_CHARS = 4000  # each eval document is scored on its first 4,000 characters: bounds cost, no document dominates a set
DOCS_DIGEST_SQL = "SELECT count(*) AS n, coalesce(bit_xor(hash(doc_id)), 0)::VARCHAR AS x FROM documents"


def pick_eval_docs(docs: pl.DataFrame, per_group: int, ood_groups: tuple[str, ...], seed: int) -> tuple[pl.DataFrame, list[str]]:
    """eval_sets rows (eval_set, doc_id, group_key, kind) from (doc_id, group_key); and the groups too small
    for an in-distribution set (fewer than 2·per_group documents), which get none."""
    unknown = sorted(set(ood_groups) - set(docs["group_key"].to_list()))
    if unknown:
        raise ValueError(f"ood groups {unknown} have no documents; groups: {sorted(set(docs['group_key'].drop_nulls()))}")
    keyed = docs.with_columns(pl.Series("_key", seeded_keys(docs["doc_id"], seed)))
    rows, skipped = [], []
    for (group,), members in sorted(keyed.partition_by("group_key", as_dict=True).items()):
        if group in ood_groups:
            picked, kind = members, "ood"
        elif members.height >= 2 * per_group:
            picked, kind = members.sort("_key").head(per_group), "id"
        else:
            skipped.append(group)
            continue
        rows.append(picked.select(pl.lit(f"{kind}/{group}").alias("eval_set"), "doc_id", "group_key", pl.lit(kind).alias("kind")))
    schema = {"eval_set": pl.String, "doc_id": pl.String, "group_key": pl.String, "kind": pl.String}
    return (pl.concat(rows).sort("eval_set", "doc_id") if rows else pl.DataFrame(schema=schema)), skipped


def split_digest(evals: pl.DataFrame) -> str:
    """``split_id``: a digest of the split's sorted (eval_set, doc_id) rows; equal ids, equal splits."""
    rows = evals.select("eval_set", "doc_id").sort("eval_set", "doc_id")
    blob = "\n".join(f"{a}\t{b}" for a, b in rows.iter_rows())
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def record_split(cat: Catalog, evals: pl.DataFrame, contamination: pl.DataFrame, params: dict[str, Any]) -> str:
    """Replace ``eval_sets``, ``contamination`` and ``eval_splits`` with this split; returns its split_id.

    ``evals``: (eval_set, doc_id, group_key, kind) rows; ``contamination``: rows of :data:`SCHEMA`."""
    split_id = split_digest(evals)
    n_docs, digest = cat.execute(DOCS_DIGEST_SQL)[0]
    with cat.transaction():
        for table in ("eval_sets", "contamination", "eval_splits"):
            cat.delete_where(table)
        cat.append("eval_sets", evals)
        cat.append("contamination", contamination)
        cat.append("eval_splits", pl.DataFrame([{"params": json.dumps(params, sort_keys=True), "n_docs_checked": n_docs,
                                                 "docs_digest": digest, "n_eval_docs": evals.height,
                                                 "n_contaminated": contamination.height, "split_id": split_id}]))
    return split_id


def reserve_eval(cat: Catalog, split: EvalSplitParams, kept_after: Sequence[str] | None = None) -> pl.DataFrame:
    """Replace eval_sets and contamination with ``split``; returns the contamination rows (the offenders, now excluded).

    Eval documents are drawn from the kept documents: those no stage dropped, or with ``kept_after``, no
    stage of that list (the stages run before the split, when ``curate run`` reserves it mid-recipe)."""
    kept = "s.dropped_by IS NULL" if kept_after is None else \
        "(s.dropped_by IS NULL OR s.dropped_by NOT IN (SELECT unnest($after::VARCHAR[])))"
    columns = set(cat.query("SELECT * FROM doc_signals LIMIT 0").columns)
    docs = cat.query(f"SELECT s.doc_id, {group_sql(split.group_by, columns, doc_id='s.doc_id')} AS group_key"
                     f" FROM doc_signals s WHERE {kept} ORDER BY s.doc_id",
                     {"after": list(kept_after)} if kept_after is not None else None)
    evals, skipped = pick_eval_docs(docs, split.per_group, tuple(split.ood_groups), split.seed)
    eval_texts = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest($ids)) ORDER BY doc_id",
                           {"ids": evals["doc_id"].to_list()})
    contamination = find_contamination(cat, eval_texts, split)
    record_split(cat, evals, contamination, split.model_dump() | {"ood_groups": sorted(split.ood_groups), "skipped_groups": skipped})
    return contamination


class EvalSplitParams(BaseModel):
    """A recipe's ``eval_split:`` section. ``curate run`` reserves the split right before the first stage
    that fits a model (topics; quality_model with ``train``), or after the last stage when none does, over
    the documents kept so far, so that no fit ever sees an eval document."""

    model_config = ConfigDict(extra="forbid")
    group_by: str = Field("source", description="Column defining eval groups (a documents column or an earlier stage's), or quality_bucket, bucket:N.")
    per_group: int = Field(5, ge=0, description="In-distribution eval documents per group (groups under 2x this get none).")
    ood_groups: list[str] = Field(default_factory=list, description="Groups held out entirely for out-of-distribution eval.")
    seed: int = Field(0, description="Seed of the split.")
    threshold: float = Field(0.8, gt=0, le=1, description="Word 5-gram Jaccard at or above which a document duplicates an eval one.")
    containment: float | None = Field(0.5, gt=0, le=1, description="Share of an eval document's word n-grams inside one"
                                      " pool document that makes it contamination (an eval passage in a longer document);"
                                      " off: null in a recipe, 0 on the command line.")
    containment_ngram: int = Field(8, ge=2, le=50, description="Word n-gram length of the containment check.")

    def reserve(self, cat: Catalog, kept_after: Sequence[str] | None = None) -> pl.DataFrame:
        """Reserve this split in ``cat`` (see :func:`reserve_eval`); returns the contamination rows."""
        return reserve_eval(cat, self, kept_after)


@dataclass(frozen=True)
class EvalSet:
    """One eval set as every evaluator scores it: its kind (id / ood), doc ids and texts (cut to max_chars)."""

    kind: str
    doc_ids: list[str]
    texts: list[str]


def eval_texts(cat: Catalog, max_docs: int | None = None, max_chars: int = MAX_EVAL_CHARS) -> dict[str, EvalSet]:
    """eval_set -> EvalSet from ``eval_sets`` joined to ``documents``, in doc_id order: the one definition of
    the text the trainer, the n-gram alignment and exported lm-eval tasks score.

    ``max_docs``: at most this many documents per set, the first by md5(doc_id), so the subset is the
    same for every run and does not depend on how the set was written.
    """
    rows = cat.ask("mix/eval_texts", max_docs=max_docs, max_chars=max_chars)
    return {k[0]: EvalSet(g["kind"][0], g["doc_id"].to_list(), g["text"].to_list())
            for k, g in rows.group_by("eval_set", maintain_order=True)}


def check_split_current(cat: Catalog) -> None:
    """Raise when eval sets exist but documents were added or removed since their contamination check."""
    split = cat.ask("mix/split_checked")
    if cat.ask("mix/eval_docs")["n"][0] == 0:
        return
    if split.height == 0 or tuple(split.row(0)) != tuple(cat.execute(DOCS_DIGEST_SQL)[0]):
        raise ValueError("the documents changed since the eval split was reserved, so new documents were never checked"
                         " for contamination; rerun `curate mix eval-split`")


def _csr_concat(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1][1:] + a[1][-1]])


class _EvalIndex:
    """The eval documents' exact keys, LSH bands and shingle sets, matched against batches of documents."""

    def __init__(self, evals: pl.DataFrame, threshold: float, containment: ContainmentIndex | None) -> None:
        self.ids, self.threshold, self.containment = evals["doc_id"], threshold, containment
        self.bands, self.rows = optimal_bands(max(threshold - 0.1, 0.05), NUM_PERM, 0.1, 0.9)
        self.exact = pl.DataFrame({"e": np.arange(evals.height), "key": exact_keys(evals["text"])})
        keys = band_hashes(signatures(evals["text"], NUM_PERM, MINHASH_SEED, NGRAM), self.bands, self.rows)
        self.band_rows = self._band_frame(keys, "e")
        self.sets = shingle_sets(evals["text"], NGRAM)

    def _band_frame(self, keys: np.ndarray, name: str) -> pl.DataFrame:
        n = keys.shape[0]
        return pl.DataFrame({name: np.repeat(np.arange(n), self.bands), "band": np.tile(np.arange(self.bands), n),
                             "h": keys.reshape(-1)})

    def match(self, doc_ids: pl.Series, texts: pl.Series) -> pl.DataFrame:
        """Contamination rows for one batch of documents."""
        exact = pl.DataFrame({"d": np.arange(texts.len()), "key": exact_keys(texts)}).join(self.exact, on="key")
        keys = band_hashes(signatures(texts, NUM_PERM, MINHASH_SEED, NGRAM), self.bands, self.rows)
        cand = self._band_frame(keys, "d").join(self.band_rows, on=["band", "h"]).select("e", "d").unique().sort("d", "e")
        cand = cand.join(exact.select("d", "e"), on=["d", "e"], how="anti")
        near = pl.DataFrame(schema={"e": pl.Int64, "d": pl.Int64, "similarity": pl.Float64})
        if cand.height:
            docs = cand["d"].unique().sort()
            local = {int(d): i for i, d in enumerate(docs.to_list())}
            values, offsets = _csr_concat(self.sets, shingle_sets(texts.gather(docs), NGRAM))
            n_eval = len(self.sets[1]) - 1
            pairs = np.stack([cand["e"].to_numpy(), np.array([n_eval + local[int(d)] for d in cand["d"]])], axis=1).astype(np.int64)
            sims = jaccard_pairs(values, offsets, pairs)
            near = cand.with_columns(pl.Series("similarity", sims)).filter(pl.col("similarity") >= self.threshold)
        rows = pl.concat([exact.select("e", "d", pl.lit("exact").alias("method"), pl.lit(1.0).alias("similarity")),
                          near.select("e", "d", pl.lit("minhash").alias("method"), "similarity")], how="vertical_relaxed")
        if self.containment is not None:  # a passage inside a longer document: pairs not already found above
            inside = self.containment.match(texts).join(rows.select("e", "d"), on=["e", "d"], how="anti")
            rows = pl.concat([rows, inside.select("e", "d", pl.lit("containment").alias("method"), "similarity")], how="vertical_relaxed")
        return rows.select(self.ids.gather(rows["e"]).alias("eval_doc_id"), doc_ids.gather(rows["d"]).alias("doc_id"),
                           "method", "similarity").cast(SCHEMA)  # type: ignore[arg-type]


def find_contamination(cat: Catalog, evals: pl.DataFrame, split: EvalSplitParams) -> pl.DataFrame:
    """Documents (not eval documents themselves) whose normalized text equals an eval document's, whose
    word 5-gram Jaccard with one is ≥ the split's ``threshold``, or that hold ≥ its ``containment`` of one's
    word ``containment_ngram``-grams: (eval_doc_id, doc_id, method, similarity), sorted. One method per
    pair (exact, else minhash, else containment)."""
    if evals.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    inside = ContainmentIndex(evals["text"], split.containment, split.containment_ngram) if split.containment is not None else None
    index = _EvalIndex(evals, split.threshold, inside)
    cat.con.register("_mix_eval_ids", evals.select("doc_id").to_arrow())
    try:
        reader = cat.con.sql("SELECT doc_id, text FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM _mix_eval_ids)"
                                 ).to_arrow_reader(BATCH_DOCS)
        found = [index.match(pl.Series(b.column("doc_id")), pl.Series(b.column("text"))) for b in reader]
    finally:
        cat.con.unregister("_mix_eval_ids")
    return pl.concat([pl.DataFrame(schema=SCHEMA), *found]).sort("doc_id", "eval_doc_id")


REFIT = {"tokenizer": "`train tokenizer RUN`",
         "topics": "`curate run RECIPE` (a stage that fits a model refits when the split changes)",
         "quality_model": "`curate run RECIPE` (a stage that fits a model refits when the split changes)"}


def fit_problems(cat: Catalog) -> list[str]:
    """Why a fitted model cannot be trusted against the current eval split: one sentence each (empty: none).

    A fit is *leaky* when eval documents of the current split are among the documents it was fitted on
    (view ``fit_docs``), *stale* when it was fitted against another split than the current one (or none),
    and, with a split reserved, *unrecorded* when a topics stage, a trained quality_model stage or the
    tokenizer exists but never recorded its documents (fitted before fits were recorded). ``curate mix``
    prints these as warnings; a study analysis refuses on them. The ``fits`` report shows the counts.
    """
    problems, current = [], current_split_id(cat)
    for row in cat.report("fits").iter_rows(named=True):
        fit, how = row["fit"], REFIT.get(row["fit"], "refit it")
        if row["n_eval_docs_in_fit"]:
            problems.append(f"{fit} was fitted on {row['n_eval_docs_in_fit']} eval document(s) of the current split: refit it with {how}")
        elif not row["current"]:
            problems.append(f"{fit} was fitted against eval split {row['split_id'] or '(none)'}, not the current"
                            f" {current or '(none)'}: refit it with {how}")
    if current is None:
        return problems
    recorded = {t.removeprefix("fit_docs__") for t in cat.ask("mix/recorded_fits")["table_name"]}
    fitted = set(cat.ask("mix/fitted_stages")["stage"])
    fitted |= {"tokenizer"} if (cat.run_dir / TOKENIZER_FILE).exists() else set()
    return problems + [f"{fit} recorded no fit documents (fitted before fits were recorded): refit it with {REFIT[fit]}"
                       for fit in sorted(fitted - recorded)]
