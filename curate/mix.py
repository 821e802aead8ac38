"""``curate mix``: MixtureSpec -> Manifest. A reproducible, token-budgeted selection of the curated pool.

The pool is the run's kept documents matching ``where``, minus every eval document and every pool
document that duplicates one (see :mod:`curate.mix_eval`). Groups (``group_by``: any column of
``documents`` or ``doc_signals``) get token shares from the strategy; each share is filled in a seeded
order. Output ``mixtures/<mixture_id>/``: shuffled Parquet shards (doc_id, text, group_key; a document
appears once per repeat) and ``manifest.json``. ``mixture_id`` = name + hash(spec, catalog snapshot), so
the same spec on the same catalog gives the same id and byte-identical shards and manifest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.catalog import Catalog, schema_version, sql_ident
from curate.mix_select import STRATEGIES, InfeasibleMixture, fill_group, seeded_order
from curate.shards import write_atomic

TOKENIZER_FILE = Path("train/tokenizer/tokenizer.json")


class MixtureSpec(BaseModel):
    """What a mixture is made of; every field is part of its id."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Human name; the id is name-<hash>.")
    where: str = Field("true", description="SQL filter over documents (d.) and doc_signals (s.) columns, e.g. lang = 'en'.")
    group_by: str = Field("source", description="Column whose values are the groups (source, lang, topic_id, ...).")
    strategy: Literal[tuple(STRATEGIES)] = Field("proportional", description="How the budget is shared among groups.")  # type: ignore[valid-type]
    weights: dict[str, float] = Field(default_factory=dict, description="Per-group weights (strategy: weights).")
    temperature: float = Field(1.0, gt=0, description="τ in p ∝ n^(1/τ) (strategy: temperature).")
    target_entropy: float = Field(0.0, ge=0, description="Group entropy in nats (strategy: target_entropy).")
    quality_column: str = Field("quality_score", description="Column ranked by quality_top.")
    token_budget: int = Field(gt=0, description="Tokens in the mixture.")
    tokens: Literal["bytes4", "tokenizer"] = Field("bytes4", description="Count tokens as UTF-8 bytes/4 or with the run's trained tokenizer.")
    max_repeats: int = Field(4, ge=1, description="Maximum epochs of any document.")
    seed: int = Field(0, description="Selection and shuffle seed.")
    sweep_id: str | None = Field(None, description="Set by `curate mix sweep` for the mixtures of one ablation.")
    shard_docs: int = Field(5000, ge=1, description="Rows per output shard.")
    jsonl: bool = Field(False, description="Also write JSONL shards.")


def count_tokens(texts: pl.Series, n_bytes: pl.Series, mode: str, run_dir: Path) -> pl.Series:
    """Tokens per document: ceil(bytes/4), or the trained tokenizer's count (no special tokens)."""
    if mode == "bytes4":
        return ((n_bytes + 3) // 4).cast(pl.Int64).alias("n_tokens")
    from tokenizers import Tokenizer

    path = run_dir / TOKENIZER_FILE
    if not path.exists():
        raise FileNotFoundError(f"tokens: tokenizer needs {path}; run `train tokenizer {run_dir}` first")
    encoded = Tokenizer.from_file(str(path)).encode_batch(texts.to_list(), add_special_tokens=False)
    return pl.Series("n_tokens", [len(e.ids) for e in encoded], dtype=pl.Int64)


def pool(cat: Catalog, spec: MixtureSpec) -> pl.DataFrame:
    """Candidate documents (kept, matching where, not eval, not contaminated) with group and tokens."""
    if ";" in spec.where:
        raise ValueError("where must be a single SQL expression (no ';')")
    signals = set(cat.query("SELECT * FROM doc_signals LIMIT 0").columns)
    group = f"d.{sql_ident(spec.group_by)}" if spec.group_by in ("source", "source_id") else f"s.{sql_ident(spec.group_by)}"
    if spec.group_by not in signals and spec.group_by not in ("source", "source_id"):
        raise ValueError(f"group_by {spec.group_by!r} is not a column of doc_signals: {sorted(signals)}")
    quality = f", s.{sql_ident(spec.quality_column)} AS quality" if spec.strategy == "quality_top" else ""
    frame = cat.query(
        f"SELECT d.doc_id, d.text, d.n_bytes, CAST({group} AS VARCHAR) AS group_key{quality}"
        " FROM kept_documents d LEFT JOIN doc_signals s USING (doc_id)"
        f" WHERE ({spec.where}) AND d.doc_id NOT IN (SELECT doc_id FROM eval_sets)"
        " AND d.doc_id NOT IN (SELECT doc_id FROM contamination) ORDER BY d.doc_id")
    frame = frame.with_columns(pl.col("group_key").fill_null("<null>"))
    return frame.with_columns(count_tokens(frame["text"], frame["n_bytes"], spec.tokens, cat.run_dir))


def select(frame: pl.DataFrame, spec: MixtureSpec) -> tuple[pl.DataFrame, dict[str, float]]:
    """(doc_id, repeats, group_key, n_tokens) of the chosen documents, and each group's share."""
    if frame.height == 0:
        raise InfeasibleMixture(f"mixture {spec.name!r}: no documents match where={spec.where!r}")
    tokens = {g: int(t) for g, t in frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows()}
    shares = STRATEGIES[spec.strategy](dict(sorted(tokens.items())), spec)
    chosen = []
    for group in sorted(shares):
        docs = frame.filter(pl.col("group_key") == group)
        order = np.argsort(-docs["quality"].fill_null(-np.inf).to_numpy(), kind="stable") if spec.strategy == "quality_top" else seeded_order(docs["doc_id"], spec.seed)
        picked = fill_group(docs, round(shares[group] * spec.token_budget), spec.max_repeats, group, order)
        chosen.append(picked.join(docs.select("doc_id", "group_key", "n_tokens"), on="doc_id"))
    return pl.concat(chosen).sort("doc_id"), shares


def snapshot(cat: Catalog) -> str:
    """Fingerprint of the catalog state a mixture is drawn from (stages, eval sets, contamination)."""
    parts = [cat.query("SELECT stage, fingerprint FROM stages ORDER BY stage").rows(),
             cat.query("SELECT eval_set, doc_id FROM eval_sets ORDER BY ALL").rows(),
             cat.query("SELECT doc_id FROM contamination ORDER BY ALL").rows()]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def emit(cat: Catalog, spec: MixtureSpec) -> dict:
    """Select, write shards and manifest, register in the catalog; returns the manifest."""
    spec_json = spec.model_dump(mode="json")
    snap = snapshot(cat)
    mixture_id = f"{spec.name}-{hashlib.sha256(json.dumps([spec_json, snap], sort_keys=True).encode()).hexdigest()[:10]}"
    chosen, shares = select(pool(cat, spec), spec)
    rows = chosen.select("doc_id", "group_key", "repeats").join(cat.query("SELECT doc_id, text FROM documents"), on="doc_id", how="left")
    expanded = rows[np.repeat(np.arange(rows.height), rows["repeats"].to_numpy())].drop("repeats")
    expanded = expanded[seeded_order(expanded["doc_id"] + "\0" + pl.Series(np.arange(expanded.height).astype(str)), spec.seed)]
    out_dir = cat.run_dir / "mixtures" / mixture_id
    shards = write_shards(expanded.select("doc_id", "text", "group_key"), out_dir, spec)
    groups = chosen.group_by("group_key").agg(
        pl.len().alias("n_docs"), (pl.col("n_tokens") * pl.col("repeats")).sum().alias("n_tokens"), pl.col("repeats").max().alias("max_repeats"))
    groups_json = {g: {"n_docs": n, "n_tokens": t, "weight": round(shares[g], 10), "max_repeats": r}
                   for g, n, t, r in sorted(groups.rows())}
    manifest = {
        "mixture_id": mixture_id, "name": spec.name, "sweep_id": spec.sweep_id, "spec": spec_json, "seed": spec.seed,
        "token_budget": spec.token_budget, "n_tokens": int(sum(g["n_tokens"] for g in groups_json.values())),
        "n_docs": chosen.height, "shards": shards, "groups": groups_json, "token_counter": spec.tokens,
        "source_run": cat.run_dir.name, "catalog_snapshot": snap, "catalog_schema_version": schema_version(),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1))
    register(cat, manifest, chosen, groups, shares)
    return manifest


def write_shards(frame: pl.DataFrame, out_dir: Path, spec: MixtureSpec) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("part-*"):
        old.unlink()
    shards = []
    for i, start in enumerate(range(0, max(frame.height, 1), spec.shard_docs)):
        part = frame.slice(start, spec.shard_docs)
        path = out_dir / f"part-{i:05d}.parquet"
        write_atomic(part, path)
        if spec.jsonl:
            part.write_ndjson(out_dir / f"part-{i:05d}.jsonl")
        shards.append({"path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "n_docs": part.height})
    return shards


def register(cat: Catalog, manifest: dict, chosen: pl.DataFrame, groups: pl.DataFrame, shares: dict[str, float]) -> None:
    mid = manifest["mixture_id"]
    with cat.transaction():
        for table in ("mixtures", "mixture_docs", "mixture_composition"):
            cat.delete_where(table, mixture_id=mid)
        cat.append("mixtures", pl.DataFrame([{
            "mixture_id": mid, "name": manifest["name"], "sweep_id": manifest["sweep_id"], "spec": json.dumps(manifest["spec"], sort_keys=True),
            "seed": manifest["seed"], "token_budget": manifest["token_budget"], "n_docs": manifest["n_docs"],
            "n_tokens": manifest["n_tokens"], "path": f"mixtures/{mid}"}]))
        cat.append("mixture_docs", chosen.select(pl.lit(mid).alias("mixture_id"), "doc_id", "repeats"))
        cat.append("mixture_composition", groups.select(
            pl.lit(mid).alias("mixture_id"), "group_key", "n_docs", "n_tokens",
            pl.col("group_key").replace_strict(shares, return_dtype=pl.Float64).alias("weight"), "max_repeats"))
