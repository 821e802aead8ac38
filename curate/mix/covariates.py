"""Per-mixture covariates: the properties a design factor could stand in for, measured at emit time.

Every value is weighted by what training sees: a document counts once per repeat, and shares are shares
of the mixture's tokens (``n_tokens`` under the mixture's token counter). Written to
``mixture_covariates`` (long form, role ``confound``; user expressions role ``user``):

- ``tokens_per_byte`` = Σ r·t / Σ r·b; ``mean_doc_tokens`` = Σ r·t / Σ r; ``mean_doc_bytes`` = Σ r·b / Σ r
  (r repeats, t tokens, b UTF-8 bytes of each chosen document);
- ``unique_tokens`` = Σ t; ``epochs`` = Σ r·t / Σ t (token-weighted mean repeats); ``repeat_rate`` =
  1 - unique_tokens / tokens (the share of training tokens that are repeats);
- ``near_dup_frac``: the token share of documents in a duplicate cluster (``dup_clusters``: they had an
  exact or near twin in the ingested corpus), when the dedup stages ran;
- ``mean_quality``: token-weighted mean of the spec's quality column, only when the quality model is useful
  (``quality_model_fit.useful``); otherwise omitted, and the manifest says why;
- ``lang_share:<lang>`` / ``script_share:<script>``: token shares of the langid stage's ``lang`` / ``script``;
- ``user:<name>``: the sweep's ``covariates:`` SQL aggregate expressions over the mixture's rows of
  ``doc_signals`` plus ``text``, ``repeats`` and ``n_tokens`` (e.g. ``sum(repeats * n_bytes) / sum(repeats)``).
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from curate.core.catalog import Catalog

SCHEMA = {"name": pl.String, "value": pl.Float64, "role": pl.String}
BUILT_IN = ("tokens_per_byte", "mean_doc_tokens", "mean_doc_bytes", "unique_tokens", "epochs", "repeat_rate",
            "near_dup_frac", "mean_quality")
FAMILIES = ("lang_share:", "script_share:", "user:")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def known_name(name: str) -> bool:
    """Whether ``name`` is a covariate this module can record (a built-in or one of the families)."""
    return name in BUILT_IN or (name.startswith(FAMILIES) and len(name.split(":", 1)[1]) > 0)


def _exists(cat: Catalog, name: str) -> bool:
    return bool(cat.ask("mix/table_exists", table=name)["n"][0])


def quality_usable(cat: Catalog) -> tuple[bool, str]:
    """(usable, why not): the quality model is a covariate only when ``quality_model_fit`` says it is useful."""
    if not _exists(cat, "quality_model_fit"):
        return False, "no quality_model_fit table: the quality model's usefulness was not measured"
    rows = cat.ask("mix/quality_model_fit")
    if rows.height == 0 or not rows["useful"][0]:
        reason = rows["reason"][0] if rows.height else "quality_model_fit is empty"
        return False, f"quality model not useful: {reason}"
    return True, ""


def check_user(cat: Catalog, user: dict[str, str]) -> None:
    """Fail before anything is emitted when a user covariate is malformed (evaluated on zero rows)."""
    empty = pl.DataFrame(schema={"doc_id": pl.String, "repeats": pl.Int32, "n_tokens": pl.Int64})
    for name in user:
        if not NAME.match(name):
            raise ValueError(f"covariate name {name!r} must be an identifier (letters, digits, _)")
    _user_values(cat, empty, user)


def _user_values(cat: Catalog, chosen: pl.DataFrame, user: dict[str, str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    if not user:
        return out
    needs_text = any(re.search(r"\btext\b", e) for e in user.values())
    text = (", d.text", " JOIN (SELECT doc_id, text FROM documents) d USING (doc_id)") if needs_text else ("", "")
    cat.con.register("_mix_user_rows", chosen.select("doc_id", "repeats", "n_tokens").to_arrow())
    try:
        for name, expr in user.items():
            if ";" in expr:
                raise ValueError(f"covariate {name!r}: one SQL aggregate expression without ';', got {expr!r}")
            try:
                rows = cat.execute(f"SELECT CAST(({expr}) AS DOUBLE) FROM (SELECT s.*, c.repeats, c.n_tokens{text[0]} FROM _mix_user_rows c"
                                   f" JOIN doc_signals s USING (doc_id){text[1]})")
            except duckdb.Error as err:
                raise ValueError(f"covariate {name!r} ({expr!r}) is not a valid SQL aggregate over the mixture's rows"
                                 f" (doc_signals columns, text, repeats, n_tokens): {str(err).splitlines()[0]}") from None
            if len(rows) != 1:
                raise ValueError(f"covariate {name!r} ({expr!r}) must aggregate to one value (use sum/avg/...), got {len(rows)} rows")
            out[name] = rows[0][0]
    finally:
        cat.con.unregister("_mix_user_rows")
    return out


def values_of(rows: pl.DataFrame) -> dict[str, float | None]:
    """Built-in covariates of a mixture's rows (doc_id, repeats, n_tokens and, from the pool, n_bytes,
    quality, lang, script, dup); lang_share / script_share only where the column has values."""
    m = rows.with_columns(pl.col("repeats").cast(pl.Float64).alias("r"), pl.col("n_tokens").cast(pl.Float64).alias("t"),
                          pl.col("n_bytes").cast(pl.Float64).alias("b"))
    m = m.with_columns((pl.col("r") * pl.col("t")).alias("rt"), (pl.col("r") * pl.col("b")).alias("rb"))
    tokens, n_rows, unique = m["rt"].sum(), m["r"].sum(), m["t"].sum()
    q = m.filter(pl.col("quality").is_not_null())
    values: dict[str, float | None] = {
        "tokens_per_byte": tokens / m["rb"].sum(), "mean_doc_tokens": tokens / n_rows, "mean_doc_bytes": m["rb"].sum() / n_rows,
        "unique_tokens": unique, "epochs": tokens / unique, "repeat_rate": 1 - unique / tokens,
        "near_dup_frac": m.filter(pl.col("dup"))["rt"].sum() / tokens,
        "mean_quality": (q["rt"] * q["quality"]).sum() / q["rt"].sum() if q.height else None}
    for family, column in (("lang_share", "lang"), ("script_share", "script")):
        if m[column].null_count() < m.height:
            shares = m.group_by(pl.col(column).fill_null("").replace("", "<none>").alias("k")).agg(pl.col("rt").sum() / tokens)
            values |= {f"{family}:{k}": v for k, v in shares.sort("k").iter_rows()}
    return {k: (float(v) if v is not None else None) for k, v in values.items()}


def _omitted(cat: Catalog, values: dict[str, float | None]) -> dict[str, str]:
    """The built-in covariates not to record, with why."""
    omitted: dict[str, str] = {}
    if cat.ask("mix/dup_cluster_rows")["n"][0] == 0:
        omitted["near_dup_frac"] = "no dup_clusters rows (the dedup stages did not run or found no duplicates)"
    usable, why = quality_usable(cat)
    if not usable or values["mean_quality"] is None:
        omitted["mean_quality"] = why or "no quality values (run the quality_model stage)"
    for family, column in (("lang_share", "lang"), ("script_share", "script")):
        if not any(k.startswith(f"{family}:") for k in values):
            omitted[f"{family}:*"] = f"no {column} values (run the langid stage)"
    return omitted


def with_pool_columns(chosen: pl.DataFrame, pool: pl.DataFrame) -> pl.DataFrame:
    """The chosen rows (doc_id, repeats, n_tokens) with what :func:`values_of` needs from the pool frame."""
    return chosen.select("doc_id", "repeats", "n_tokens").join(
        pool.select("doc_id", "n_bytes", "quality", "lang", "script", "dup"), on="doc_id", how="left")


def measure(cat: Catalog, chosen: pl.DataFrame, pool: pl.DataFrame,
            user: dict[str, str] | None = None) -> tuple[pl.DataFrame, dict[str, str]]:
    """(name, value, role) rows for a mixture's chosen documents (doc_id, repeats, n_tokens), whose other
    properties (n_bytes, quality, lang, script, dup) come from its pool frame; and the covariates left out, with why."""
    rows = with_pool_columns(chosen, pool)
    values = values_of(rows)
    omitted = _omitted(cat, values)
    out = [{"name": k, "value": v, "role": "confound"} for k, v in values.items() if k not in omitted]
    out += [{"name": f"user:{k}", "value": v, "role": "user"} for k, v in _user_values(cat, chosen, user or {}).items()]
    return pl.DataFrame(out, schema=SCHEMA), omitted
