"""diversity: score the corpus, each source, each language and each topic; rows for the ``diversity`` table.

A global stage with no per-document columns and no drops: it reads the surviving documents through
the catalog views (so languages and topics from earlier stages are available), draws one seeded sample
per scope, fetches only the sampled texts, scores the scopes in the worker pool (one task each), and
writes one row per scope and metric with the sample size, seed and a bootstrap 95% interval (see
:mod:`curate.diversity.scope`). Like every stage it writes Parquet only
(``stages/diversity/rows/diversity.parquet``); the catalog records those rows with the stage, replacing the
previous ones of the scope kinds it owns (corpus, source, lang, topic), so a re-run is idempotent.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import polars as pl
from pydantic import Field

from curate.core.threads import thread_budget
from curate.diversity.scope import (
    MAX_CHARS,
    ROW_SCHEMA,
    Embeddings,
    ScopeTask,
    build_sample,
    embed,
    fetch_texts,
    sample_rows,
    scope_index,
    scope_rows,
)
from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams

Scope = Literal["corpus", "source", "lang", "topic"]
SCOPE_COLUMNS: dict[str, str | None] = {"corpus": None, "source": "source", "lang": "lang", "topic": "topic_id"}


class DiversityParams(StageParams):
    stage: Literal["diversity"] = "diversity"
    scopes: list[Scope] = Field(["corpus", "source", "lang", "topic"], description="Scopes scored (lang/topic only when langid/topics ran).")
    sample_size: int = Field(1000, ge=2, description="Documents sampled per scope (seeded).")
    n_boot: int = Field(20, ge=0, description="Bootstrap resamples for the 95% intervals.")
    vendi_q: float = Field(1.0, ge=0, description="Order q of the Vendi score (1 = Shannon).")
    embeddings: Embeddings = Field("auto", description="auto (topic model, else TF-IDF -> SVD), tfidf, or minilm.")
    max_chars: int = Field(MAX_CHARS, ge=100, description="Characters of each document read by the text metrics.")
    seed: int = Field(0, description="Sampling and bootstrap seed.")
    min_docs: int = Field(5, ge=1, description="Scopes with fewer documents are skipped.")


def scope_groups(index: pl.DataFrame, scopes: list[str], min_docs: int) -> list[tuple[str, str, np.ndarray]]:
    """(scope_kind, scope_id, row indices into index) of every scope with at least min_docs documents."""
    out = []
    for scope in scopes:
        column = SCOPE_COLUMNS[scope]
        if column is None:
            out.append((scope, "all", np.arange(index.height)))
            continue
        if column not in index.columns:
            continue
        keyed = index.select(pl.col(column).cast(pl.String).fill_null("unknown").alias("key")).with_row_index("i")
        for (key,), group in sorted(keyed.group_by("key"), key=lambda kg: kg[0][0]):
            if group.height >= min_docs:
                out.append((scope, str(key), group["i"].to_numpy()))
    return out


def score_scope_task(task: ScopeTask) -> pl.DataFrame:
    """:func:`scope_rows` with one thread, so its eigenvalues are the same bits in any worker or the driver."""
    with thread_budget(1):
        return scope_rows(task)


class Diversity(GlobalStage):
    name = "diversity"
    version = "2"
    Params = DiversityParams
    schema = {}
    reasons = ()
    catalog_rows = {"diversity": ("scope_kind", get_args(Scope))}

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: DiversityParams = self.params  # type: ignore[assignment]
        cat = ctx.catalog
        index = scope_index(cat)
        groups = [(kind, sid, idx, idx[sample_rows(len(idx), p.sample_size, p.seed)])
                  for kind, sid, idx in scope_groups(index, list(p.scopes), p.min_docs)]
        union = np.unique(np.concatenate([chosen for *_, chosen in groups])) if groups else np.empty(0, np.int64)
        rows = index[union]
        texts = fetch_texts(cat, rows["doc_id"].to_list())
        vectors, source = embed(cat, [texts[d][: p.max_chars] for d in rows["doc_id"]], p.seed, p.embeddings)
        full = build_sample(rows, texts, vectors, p.max_chars)
        tasks = []
        for kind, sid, idx, chosen in groups:
            params = {"scope": kind, "value": sid, "seed": p.seed, "n_boot": p.n_boot, "q": p.vendi_q,
                      "max_chars": p.max_chars, "embeddings": source, "base": "kept_documents"}
            tasks.append((ScopeTask(full.take(np.searchsorted(union, chosen)), len(idx), kind, sid, params, p.n_boot, p.seed, p.vendi_q),))
        # one task per scope in the worker pool: the bootstraps (gzip -9 of each resample above all) were
        # 10-15 s of the demo on the driver while the workers idled; results come back in task order
        frames = [pl.DataFrame(schema=ROW_SCHEMA), *ctx.map_tasks("diversity: score each scope", score_scope_task, tasks)]
        ctx.write_rows("diversity", pl.concat(frames))
        ids = [f.select("doc_id") for f in ctx.documents(("doc_id",))]
        return pl.concat([pl.DataFrame(schema={"doc_id": pl.String}), *ids]).with_columns(pl.lit(None, pl.String).alias(DROP_REASON))
