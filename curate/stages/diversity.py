"""diversity: score the corpus, each source, each language and each topic; rows go to ``diversity``.

A global stage with no per-document columns: it reads the surviving documents through the catalog
views (so languages and topics from earlier stages are available) and writes one row per scope and
metric, with the sample size, seed and a bootstrap 95% interval (see :mod:`curate.diversity.scope`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from curate.diversity.scope import ROW_SCHEMA, build_sample, load_scope, sample_rows, scope_rows
from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams

Scope = Literal["corpus", "source", "lang", "topic"]
SCOPE_COLUMNS = {"corpus": None, "source": "source", "lang": "lang", "topic": "topic_id"}


class DiversityParams(StageParams):
    stage: Literal["diversity"] = "diversity"
    scopes: list[Scope] = Field(["corpus", "source", "lang", "topic"], description="Scopes scored (lang/topic only when langid/topics ran).")
    sample_size: int = Field(1000, ge=2, description="Documents sampled per scope (seeded).")
    n_boot: int = Field(20, ge=0, description="Bootstrap resamples for the 95% intervals.")
    vendi_q: float = Field(1.0, ge=0, description="Order q of the Vendi score.")
    seed: int = Field(0, description="Sampling and bootstrap seed.")
    min_docs: int = Field(5, ge=1, description="Scopes with fewer documents are skipped.")


class Diversity(GlobalStage):
    name = "diversity"
    version = "1"
    Params = DiversityParams
    schema = {}
    reasons = ()

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: DiversityParams = self.params  # type: ignore[assignment]
        cat = ctx.catalog
        rows = load_scope(cat)
        sample = build_sample(cat, rows, p.seed) if rows.height else None
        out = []
        for scope in p.scopes:
            column = SCOPE_COLUMNS.get(scope)
            if sample is None or (column is not None and column not in rows.columns):
                continue
            groups = {"all": np.arange(rows.height)} if column is None else {
                str(k[0]): g["i"].to_numpy() for k, g in rows.with_row_index("i").group_by(column, maintain_order=True)}
            for value, idx in sorted(groups.items()):
                if len(idx) < p.min_docs:
                    continue
                chosen = idx[sample_rows(len(idx), p.sample_size, p.seed)]
                params = {"scope": scope, "value": value, "seed": p.seed, "n_boot": p.n_boot, "q": p.vendi_q}
                out += scope_rows(sample.take(chosen), len(idx), scope, value, params, p.n_boot, p.seed, p.vendi_q)
        cat.execute("DELETE FROM diversity WHERE scope_kind IN ('corpus', 'source', 'lang', 'topic')")
        cat.append("diversity", pl.DataFrame(out, schema=ROW_SCHEMA))
        ids = [f for f in ctx.documents(("doc_id",))]
        frame = pl.concat(ids) if ids else pl.DataFrame(schema={"doc_id": pl.String})
        return frame.with_columns(pl.lit(None, pl.String).alias(DROP_REASON))
