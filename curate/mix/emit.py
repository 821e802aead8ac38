"""``curate mix``: MixtureSpec -> Manifest. A reproducible, token-budgeted selection of the curated pool.

The pool is the run's kept documents matching ``where`` (SQL over ``doc_signals``, as in
:func:`curate.diversity.scope.scope_relation`), minus every eval document and every document that
duplicates one (:mod:`curate.mix.eval_split`). Groups (``group_by``: any column, ``quality_bucket`` or
``bucket:N``, :mod:`curate.mix.groups`) get token shares from the strategy (:mod:`curate.mix.select`);
each share is filled in a seeded order, per stratum when ``match`` is set (:mod:`curate.mix.strata`),
with every chosen document exactly ``epochs`` times when that is set. Each mixture's covariates
(:mod:`curate.mix.covariates`) and, when the run has a tokenizer and eval sets, its n-gram alignment to
every eval document (:mod:`curate.mix.alignment`) are recorded with it.

Output ``mixtures/<mixture_id>/``: Parquet shards (doc_id, text, group_key; a document appears once per
repeat; rows shuffled by the seed) and ``manifest.json``. ``mixture_id`` = name + hash(spec, pool
digest): the same spec on the same catalog gives the same id and byte-identical shards and manifest.
Only doc ids, groups and token counts are held in memory; texts stream (:mod:`curate.mix.write`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from curate.core.catalog import Catalog, schema_version
from curate.diversity.scope import scope_relation, score_scope
from curate.mix import covariates
from curate.mix.alignment import Alignment, alignment_for
from curate.mix.eval_split import check_split_current
from curate.mix.groups import group_sql
from curate.mix.select import STRATEGIES, InfeasibleMixture, allocate, caps, entropy_of, repeat_cap, seeded_keys
from curate.mix.spec import MixtureSpec
from curate.mix.strata import strata, stratify
from curate.mix.tokens import count_tokens, resolve_mode, token_counter_name
from curate.mix.write import write_shards
from sql.quote import sql_ident, sql_string

POOL_FIELDS = ("where", "group_by", "quality_buckets", "quality_column", "tokenizer", "match")
DESIGN_COLUMNS = ("sweep_id", "arm", "factor", "factor_value", "draw", "grouping", "groups")
ORDER_BY = {"quality_top": ("quality", True), "diversity_max": ("topic_distance", True), "diversity_min": ("topic_distance", False)}


@dataclass
class Pool:
    """The candidate documents of a spec: doc_id, group_key, n_tokens, n_bytes, topic_id, topic_distance,
    quality, lang, script, dup (in a duplicate cluster), and stratum when the spec matches a covariate."""

    frame: pl.DataFrame
    digest: str
    token_counter: str
    tokenizer: str = "bytes4"  # the resolved counter: run or bytes4


def _columns(cat: Catalog, relation: str) -> set[str]:
    return set(cat.query(f"SELECT * FROM ({relation}) LIMIT 0").columns)


def _pool_frame(cat: Catalog, spec: MixtureSpec, relation: str, columns: set[str]) -> pl.DataFrame:
    optional = lambda c, t: f"CAST({sql_ident(c)} AS {t})" if c in columns else f"NULL::{t}"  # noqa: E731
    matched = ""
    if spec.match:
        if spec.match.column not in columns:
            raise ValueError(f"match: column {spec.match.column!r} is not a column of the pool; columns: {sorted(columns)}")
        matched = f", {sql_ident(spec.match.column)} AS _match"
    group = group_sql(spec.group_by, columns, spec.quality_column, spec.quality_buckets)
    return cat.query(
        f"WITH p AS (SELECT * FROM ({relation}) WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)"
        " AND doc_id NOT IN (SELECT doc_id FROM contamination))"
        f" SELECT doc_id, {group} AS group_key, n_bytes,"
        f" {optional('topic_id', 'VARCHAR')} AS topic_id, {optional('topic_distance', 'DOUBLE')} AS topic_distance,"
        f" {optional(spec.quality_column, 'DOUBLE')} AS quality, {optional('lang', 'VARCHAR')} AS lang,"
        f" {optional('script', 'VARCHAR')} AS script, doc_id IN (SELECT doc_id FROM dup_clusters) AS dup{matched}"
        " FROM p ORDER BY doc_id")


def load_pool(cat: Catalog, spec: MixtureSpec) -> Pool:
    """Read the pool (no text) sorted by doc_id, count its tokens, and fingerprint it."""
    check_split_current(cat)
    relation = scope_relation(spec.where, "kept_documents")
    columns = _columns(cat, relation)
    if spec.strategy == "quality_top" and spec.quality_column not in columns:
        raise ValueError(f"quality_top needs column {spec.quality_column!r} (run the quality stages)")
    frame = _pool_frame(cat, spec, relation, columns)
    frame = frame.with_columns(count_tokens(cat, frame, spec.tokenizer))
    keys = ["doc_id", "group_key", "n_tokens", "topic_id"]
    if spec.match:
        frame = frame.with_columns(strata(frame, "_match", spec.match.bins)).drop("_match")
        keys.append("stratum")
    lines = frame.select(pl.concat_str(keys, separator="\t", ignore_nulls=True))
    digest = hashlib.sha256("\n".join(lines.to_series().to_list()).encode())
    digest.update(json.dumps(cat.ask("mix/eval_ids").rows()).encode())
    return Pool(frame, digest.hexdigest()[:16], token_counter_name(cat.run_dir, spec.tokenizer), resolve_mode(cat.run_dir, spec.tokenizer))


def mixture_id(spec: MixtureSpec, pool: Pool) -> str:
    body = json.dumps([spec.model_dump(mode="json"), pool.digest], sort_keys=True).encode()
    return f"{spec.name}-{hashlib.sha256(body).hexdigest()[:10]}"


def _short(tokens: dict[str, int], shares: dict[str, float], spec: MixtureSpec) -> None:
    cap = caps(tokens, spec)
    short = sorted((g for g in shares if shares[g] > cap[g] * (1 + 1e-9)), key=lambda g: cap[g] - shares[g])
    if short:
        g, limit = short[0], f"epochs={spec.epochs}" if spec.epochs else f"max_repeats={spec.max_repeats}"
        raise InfeasibleMixture(
            f"group {g!r} ran short: its share {shares[g]:.4f} of {spec.token_budget:,} tokens needs "
            f"{round(shares[g] * spec.token_budget):,}, it has {tokens[g]:,} tokens x {limit}"
            f" = {tokens[g] * repeat_cap(spec):,}" + (f" (also short: {short[1:]})" if len(short) > 1 else ""))


def select(pool: Pool, spec: MixtureSpec) -> tuple[pl.DataFrame, dict[str, float]]:
    """(doc_id, group_key, repeats, n_tokens) of the chosen documents, and each group's target share."""
    frame = pool.frame
    if frame.height == 0:
        raise InfeasibleMixture(f"mixture {spec.name!r}: no documents in the pool (where={spec.where!r}, after eval sets)")
    tokens = dict(sorted(frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows()))
    shares = STRATEGIES[spec.strategy](tokens, spec)
    _short(tokens, shares, spec)
    column, descending = ORDER_BY.get(spec.strategy, (None, False))
    if column and frame[column].null_count() == frame.height:
        raise ValueError(f"strategy {spec.strategy} orders documents by {column}; run the stage that produces it")
    keyed = frame.with_columns(pl.Series("_key", seeded_keys(frame["doc_id"], spec.seed)))
    by, desc = ([column, "_key"], [descending, False]) if column else (["_key"], [False])
    ordered = keyed.sort(by, descending=desc, nulls_last=True)
    groups = {g[0]: part for g, part in ordered.partition_by("group_key", as_dict=True, maintain_order=True).items()}
    if not spec.match:
        return allocate(groups, shares, spec), shares
    cells = stratify(groups, shares, frame, spec)
    chosen = allocate(cells.docs, cells.shares, spec).with_columns(pl.col("group_key").replace_strict(cells.group))
    return chosen.sort("doc_id"), shares


def shuffled_rows(chosen: pl.DataFrame, seed: int) -> pl.DataFrame:
    """One row per repeat of each chosen document, with ``ord``: its position after a seeded shuffle."""
    rows = chosen.select("doc_id", "group_key", "repeats").with_columns(pl.int_ranges(0, "repeats").alias("repeat")).explode("repeat")
    keys = seeded_keys(rows["doc_id"], seed, rows["repeat"])
    return rows.with_columns(pl.Series("ord", np.argsort(np.argsort(keys, kind="stable"), kind="stable")))


def _profile(chosen: pl.DataFrame, pool: Pool) -> dict:
    """Measured token entropies (nats) of the mixture's groups and topics, repeats counted."""
    weighted = chosen.with_columns((pl.col("n_tokens") * pl.col("repeats")).alias("w"))
    out = {"group_entropy": round(entropy_of(weighted.group_by("group_key").agg(pl.col("w").sum())["w"].to_list()), 10)}
    topics = weighted.join(pool.frame.select("doc_id", "topic_id"), on="doc_id").drop_nulls("topic_id")
    if topics.height:
        per_topic = dict(sorted(topics.group_by("topic_id").agg(pl.col("w").sum()).iter_rows()))
        out |= {"topic_entropy": round(entropy_of(list(per_topic.values())), 10), "topic_tokens": per_topic}
    return out


@dataclass
class Extras:
    """What a sweep adds to each mixture it emits; a plain ``curate mix`` uses the defaults."""

    user_covariates: dict[str, str] = field(default_factory=dict)  # name -> SQL aggregate (the sweep's `covariates:`)
    alignment: Alignment | str | None = None  # built once per sweep, or why there is none; None: emit decides
    design: dict | None = None  # the mixture's mixture_design row (without mixture_id), also kept in the manifest


def _manifest(spec: MixtureSpec, pool: Pool, mid: str, chosen: pl.DataFrame, shares: dict[str, float], groups: pl.DataFrame,
              n_rows: int, shards: list[dict]) -> dict:
    n_tokens = int(groups["n_tokens"].sum())
    return {
        "mixture_id": mid, "name": spec.name, "sweep_id": spec.sweep_id, "spec": spec.model_dump(mode="json"), "seed": spec.seed,
        "token_budget": spec.token_budget, "n_tokens": n_tokens, "n_docs": chosen.height, "n_rows": n_rows,
        "budget_error_pct": round(100 * (n_tokens - spec.token_budget) / spec.token_budget, 6),
        "shards": shards, "token_counter": pool.token_counter, "tokenizer": pool.tokenizer, "measured": _profile(chosen, pool),
        "groups": {g: {"n_docs": n, "n_tokens": t, "weight": round(shares[g], 10), "token_share": round(t / n_tokens, 10),
                       "max_repeats": r} for g, n, t, r in groups.rows()},
    }


def emit(cat: Catalog, spec: MixtureSpec, pool: Pool | None = None, workers: int | None = None,
         diversity_sample: int | None = 500, n_boot: int = 10, extras: Extras | None = None) -> dict:
    """Select, write shards and manifest, record covariates and alignment, register in the catalog, score
    diversity; returns the manifest."""
    extras = extras or Extras()
    pool = pool or load_pool(cat, spec)
    mid = mixture_id(spec, pool)
    chosen, shares = select(pool, spec)
    rows = shuffled_rows(chosen, spec.seed)
    final = cat.run_dir / "mixtures" / mid
    tmp = final.with_name(f".{mid}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shards = write_shards(cat, rows, tmp, spec.shard_docs, spec.jsonl, threads=workers)
    groups = chosen.group_by("group_key").agg(pl.len().alias("n_docs"), (pl.col("n_tokens") * pl.col("repeats")).sum().alias("n_tokens"),
                                              pl.col("repeats").max().alias("max_repeats")).sort("group_key")
    covs, omitted = covariates.measure(cat, chosen, pool.frame, extras.user_covariates)
    align = extras.alignment if extras.alignment is not None else alignment_for(cat)
    aligned = align.score(cat, chosen) if isinstance(align, Alignment) else None
    manifest = _manifest(spec, pool, mid, chosen, shares, groups, rows.height, shards) | {
        "covariates": dict(covs.select("name", "value").iter_rows()), "covariates_omitted": omitted,
        "alignment": align.summary(aligned) if isinstance(align, Alignment) else {"skipped": align},
        "design": extras.design and extras.design | {"groups": groups["group_key"].to_list()}, "source_run": cat.run_dir.name,
        "catalog": {"schema_version": schema_version(), "pool_digest": pool.digest}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.replace(final)
    register(cat, manifest, chosen, groups, covs, aligned)
    if diversity_sample:
        score_mixture(cat, manifest, diversity_sample, n_boot)
    return manifest


def register(cat: Catalog, manifest: dict, chosen: pl.DataFrame, groups: pl.DataFrame, covs: pl.DataFrame | None = None,
             aligned: pl.DataFrame | None = None) -> None:
    """Replace the catalog rows of this mixture: mixtures, mixture_docs, mixture_composition, mixture_covariates,
    mixture_alignment and (for a designed sweep) mixture_design."""
    mid = manifest["mixture_id"]
    weights = {g: v["weight"] for g, v in manifest["groups"].items()}
    tagged = lambda f: f.select(pl.lit(mid).alias("mixture_id"), pl.all())  # noqa: E731
    with cat.transaction():
        for table in ("mixtures", "mixture_docs", "mixture_composition", "mixture_covariates", "mixture_alignment", "mixture_design"):
            cat.delete_where(table, mixture_id=mid)
        cat.append("mixtures", pl.DataFrame([{
            "mixture_id": mid, "name": manifest["name"], "sweep_id": manifest["sweep_id"], "spec": json.dumps(manifest["spec"], sort_keys=True),
            "seed": manifest["seed"], "token_budget": manifest["token_budget"], "n_docs": manifest["n_docs"],
            "n_tokens": manifest["n_tokens"], "path": f"mixtures/{mid}"}]))
        cat.append("mixture_docs", chosen.select(pl.lit(mid).alias("mixture_id"), "doc_id", "repeats"))
        cat.append("mixture_composition", groups.select(
            pl.lit(mid).alias("mixture_id"), "group_key", "n_docs", "n_tokens",
            pl.col("group_key").replace_strict(weights, return_dtype=pl.Float64).alias("weight"), "max_repeats"))
        for table, frame in (("mixture_covariates", covs), ("mixture_alignment", aligned)):
            if frame is not None and frame.height:
                cat.append(table, tagged(frame))
        if manifest.get("design"):
            row = {"mixture_id": mid} | {k: manifest["design"][k] for k in DESIGN_COLUMNS}
            cat.append("mixture_design", pl.DataFrame([row], schema_overrides={"groups": pl.List(pl.String)}))


def score_mixture(cat: Catalog, manifest: dict, sample_size: int, n_boot: int = 10) -> pl.DataFrame:
    """Diversity rows (scope_kind='mixture') for a mixture: the scope scorer's metrics on a seeded sample of
    its distinct documents, plus the exact token-weighted entropies measured over all its rows."""
    mid = manifest["mixture_id"]
    where = f"doc_id IN (SELECT doc_id FROM mixture_docs WHERE mixture_id = {sql_string(mid)})"
    frame = score_scope(cat, where, "mixture", mid, sample_size, manifest["seed"], n_boot, base="documents")
    measured = manifest["measured"]
    extra = [{"metric": f"{k}_tokens", "value": float(measured[k])} for k in ("group_entropy", "topic_entropy") if k in measured]
    if extra:
        rows = pl.DataFrame(extra).with_columns(
            pl.lit("mixture").alias("scope_kind"), pl.lit(mid).alias("scope_id"), pl.lit(manifest["n_docs"]).cast(pl.Int64).alias("n_docs"),
            pl.lit(manifest["n_rows"]).cast(pl.Int64).alias("sample_size"), pl.lit('{"weighting": "tokens", "repeats": true}').alias("params"))
        cat.append("diversity", rows)
        frame = pl.concat([frame, rows], how="diagonal_relaxed")
    return frame
