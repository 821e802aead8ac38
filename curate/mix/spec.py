"""What a mixture is made of, typed once: :class:`MixtureSpec`, and :class:`MixtureBase`, the part a sweep's
``base:`` shares among its mixtures.

Here, not in :mod:`curate.mix.emit`, so that the strategies (:mod:`curate.mix.select`), the strata and the
balance estimate take the spec's real type without an import cycle: this module imports nothing of curate.

Units: ``token_budget`` and every token count of a mixture are counted with the spec's ``tokenizer``:
the run's BPE tokens when the run has a tokenizer (the manifest's ``token_counter`` is then
``tokenizer:<sha256>``), else the ``bytes4`` estimate ceil(UTF-8 bytes / 4) (``token_counter: bytes4``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Strategy = Literal["proportional", "uniform", "temperature", "weights", "target_entropy", "diversity_max", "diversity_min", "quality_top"]
TokenCounter = Literal["auto", "bytes4", "run"]
TOKEN_BUDGET = ("Tokens in the mixture, counted with `tokenizer`: the run's BPE tokens (tokenizer run) or the bytes4 estimate"
                " ceil(UTF-8 bytes / 4); the manifest's token_counter records which.")


class Match(BaseModel):
    """Which covariate to hold fixed across mixtures (stratified sampling, :mod:`curate.mix.strata`)."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="A doc_signals column: numeric (cut into quantile bins) or text (its values are the strata).")
    bins: int = Field(4, ge=2, description="Quantile bins of a numeric column (equal document counts over the pool).")


class MixtureBase(BaseModel):
    """Every MixtureSpec field but the per-mixture ``name`` and ``sweep_id``: a sweep's ``base:``.

    ``token_budget`` may be left to a ``vary`` design here; a MixtureSpec requires it."""

    model_config = ConfigDict(extra="forbid")

    where: str = Field("true", description="SQL over doc_signals columns (and text), e.g. lang = 'en' AND quality_score > 0.5.")
    group_by: str = Field("source", description="Column whose values are the groups (source, lang, topic_id, any column),"
                          " quality_bucket, bucket:N (N pseudo-groups b00.. from a stable hash of doc_id: a negative control),"
                          " or sql:<expression> over doc_signals columns.")
    quality_buckets: int = Field(4, ge=2, description="group_by quality_bucket: this many equal-count buckets q1..qN of quality_column.")
    strategy: Strategy = Field("proportional", description="How the budget is shared among groups.")
    weights: dict[str, float] = Field(default_factory=dict, description="strategy weights: relative weight per group.")
    temperature: float = Field(1.0, gt=0, description="strategy temperature: τ in p ∝ n^(1/τ).")
    target_entropy: float = Field(0.0, ge=0, description="strategy target_entropy: token entropy of the groups, in nats.")
    quality_column: str = Field("quality_score", description="Column ranked by quality_top and bucketed by quality_bucket.")
    token_budget: int | None = Field(None, gt=0, description=TOKEN_BUDGET)
    tokenizer: TokenCounter = Field(
        "auto", description="How tokens are counted. auto: run when the run's train/tokenizer/tokenizer.json exists, else bytes4;"
        " run: the run's BPE tokenizer; bytes4: the estimate ceil(UTF-8 bytes / 4).")
    max_repeats: int = Field(4, ge=1, description="Repetition cap: most epochs of any document.")
    epochs: int | None = Field(None, ge=1, description="Exact epochs: every chosen document appears exactly this many times"
                               " (unique tokens = token_budget / epochs); overrides max_repeats.")
    match: Match | None = Field(None, description="Hold this covariate's distribution at the pool's in every group (stratified sampling).")
    seed: int = Field(0, description="Selection and shuffle seed.")
    shard_docs: int = Field(10_000, ge=1, description="Rows per output shard.")
    jsonl: bool = Field(False, description="Also write JSONL shards.")

    def mixture(self, name: str, sweep_id: str | None, **fields: object) -> MixtureSpec:
        """The MixtureSpec of one mixture: these fields (as set), then ``fields``, then its name and sweep."""
        return MixtureSpec.model_validate({**self.model_dump(exclude_unset=True), **fields, "name": name, "sweep_id": sweep_id})


class MixtureSpec(MixtureBase):
    """What a mixture is made of; every field is part of its id."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Human name; the id is <name>-<hash of spec and pool>.")
    token_budget: int = Field(gt=0, description=TOKEN_BUDGET)
    sweep_id: str | None = Field(None, description="Set by `curate mix sweep` for the mixtures of one ablation.")
