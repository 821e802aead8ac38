"""``curate mix sweep``: a family of mixtures at one token budget — an ablation, or a designed study.

    name: domains
    base: {group_by: source, where: "lang = 'en'", token_budget: 1000000, epochs: 2, seed: 0}
    design: {kind: subsets, k: [1, 2, 4, 6], draws: 4, balance: 2000}   # or line / dirichlet / vary
    control: {group_by: "bucket:8"}                                     # the same design over pseudo-groups
    study: {factor: log2_k, target: unseen/bpb, confounds: [tokens_per_byte, mean_doc_tokens]}
    covariates: {short_doc_share: "sum(repeats * (n_bytes < 2000)::INT) / sum(repeats)"}

``steps: N`` (a line design) and ``vary: {field: [values], ...}`` (a factorial design) remain shorthands
for ``design: {kind: line, steps: N}`` and ``design: {kind: vary, fields: {...}}``. The designs are in
:mod:`curate.mix.designs`, their balance in :mod:`curate.mix.balance`. A sweep with ``study``,
``control`` or a random design (subsets, dirichlet) is a *designed study*: it is pre-registered in
``studies`` before anything is emitted and must count its budgets in the run's BPE tokens. Every mixture
of every sweep gets a ``mixture_design`` row (arm, factor value, draw, groups), its covariates and, when
possible, its n-gram alignment; the pool is read, and its documents tokenized, once per sweep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, SerializationInfo, field_serializer, field_validator, model_validator

from curate.core.catalog import Catalog
from curate.mix import covariates
from curate.mix.alignment import alignment_for
from curate.mix.balance import Chosen, Curves, choose
from curate.mix.designs import Design, Draw, LineDesign, VaryDesign, dirichlet, factor_value, factors, line, mixture_fields, subsets, vary
from curate.mix.emit import POOL_FIELDS, Extras, Pool, emit, load_pool, select
from curate.mix.spec import MixtureBase, MixtureSpec
from curate.mix.tokens import TOKENIZER_FILE, resolve_mode

PROFILE_METRICS = ("topic_entropy", "effective_topics", "vendi", "distinct_2", "compression_ratio")
DEFAULT_CONFOUNDS = ["tokens_per_byte", "mean_doc_tokens"]


class ControlArm(BaseModel):
    """The negative control: the study's design again, over pseudo-groups that mean nothing."""

    model_config = ConfigDict(extra="forbid")

    group_by: str = Field("bucket:8", description="Grouping of the control arm, normally bucket:N (hash buckets of doc_id).")
    draws: int | None = Field(None, ge=1, description="Draws per factor level in the control arm (default: the study's); fewer"
                              " saves training, but a control with much less power than the study is a weak check.")


class StudySpec(BaseModel):
    """The pre-registered question: written to ``studies`` before any mixture is trained."""

    model_config = ConfigDict(extra="forbid")

    factor: str | None = Field(None, description="The design factor (subsets: log2_k or group_entropy; line, dirichlet: group_entropy;"
                               " vary: a varied field). Default: the design's own.")
    target: str | None = Field(None, description="eval_set/metric the study explains, e.g. unseen/bpb (default for subsets) or panel/bpb.")
    confounds: list[str] = Field(default_factory=lambda: list(DEFAULT_CONFOUNDS),
                                 description="Covariates the analysis adjusts for (names in mixture_covariates).")


class SweepSpec(BaseModel):
    """A family of mixtures; its name becomes each mixture's sweep_id and name prefix."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Sweep id (also the prefix of its mixtures' names).")
    base: MixtureBase = Field(description="MixtureSpec fields shared by every mixture (name and sweep_id are set per mixture).")
    design: Design | None = Field(None, description="line | subsets | dirichlet | vary (see curate.mix.designs).")
    vary: dict[str, list[Any]] = Field(default_factory=dict, description="Shorthand for a vary design: MixtureSpec fields and their values.")
    steps: int | None = Field(None, ge=2, description="Shorthand for a line design: this many entropy targets over the feasible range.")
    control: ControlArm | None = Field(None, description="A negative-control arm with the same design over pseudo-groups.")
    study: StudySpec | None = Field(None, description="Pre-registration: factor, target and confounds of the study.")
    covariates: dict[str, str] = Field(default_factory=dict, description="User covariates: name -> SQL aggregate over a mixture's rows.")
    diversity_sample: int = Field(500, ge=0, description="Distinct documents sampled when scoring each mixture's diversity (0: skip).")
    n_boot: int = Field(10, ge=0, description="Bootstrap resamples for the diversity intervals.")

    @field_validator("base", mode="before")
    @classmethod
    def _reserved(cls, value: Any) -> Any:
        for reserved in ("name", "sweep_id"):
            if isinstance(value, dict) and reserved in value:
                raise ValueError(f"{reserved!r}: the sweep sets it for each mixture")
        return value

    @field_validator("vary")
    @classmethod
    def _varied(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return mixture_fields(value)

    @field_serializer("base")
    def _base_as_written(self, base: MixtureBase, info: SerializationInfo) -> dict[str, Any]:
        """The base as the sweep file sets it (the studies row keeps the spec as written)."""
        return base.model_dump(mode=info.mode, exclude_unset=True)

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        given = [k for k, v in (("design", self.design), ("steps", self.steps), ("vary", self.vary)) if v]
        if len(given) != 1:
            raise ValueError(f"a sweep sets exactly one of `design`, `steps` (a line design) or `vary` (a factorial design); got {given or 'none'}")
        varied = self.resolved_design.fields if isinstance(self.resolved_design, VaryDesign) else {}
        for reserved in ("name", "sweep_id"):
            if reserved in varied:
                raise ValueError(f"{reserved!r}: the sweep sets it for each mixture")
        if self.base.token_budget is None and "token_budget" not in varied:
            raise ValueError("base.token_budget is required (unless a vary design sets it for each mixture)")
        if self.study and self.study.factor and self.study.factor not in factors(self.resolved_design):
            raise ValueError(f"study.factor {self.study.factor!r} is not a factor of a {self.resolved_design.kind} design;"
                             f" choose one of {list(factors(self.resolved_design))}")
        if self.study:
            unknown = [c for c in self.study.confounds if not covariates.known_name(c)
                       or (c.startswith("user:") and c[5:] not in self.covariates)]
            if unknown:
                raise ValueError(f"study.confounds {unknown} are not recorded covariates ({', '.join(covariates.BUILT_IN)},"
                                 f" lang_share:<lang>, script_share:<script>, user:<name of a `covariates:` entry>)")
        return self

    @property
    def resolved_design(self) -> LineDesign | VaryDesign | Design:
        if self.steps:
            return LineDesign(steps=self.steps)
        return VaryDesign(fields=self.vary) if self.vary else self.design  # type: ignore[return-value]

    @property
    def is_study(self) -> bool:
        """A designed study: pre-registered, budgets in the run's tokens."""
        return self.study is not None or self.control is not None or self.resolved_design.kind in ("subsets", "dirichlet")

    @property
    def factor(self) -> str:
        return (self.study and self.study.factor) or factors(self.resolved_design)[0]

    @property
    def target(self) -> str:
        return (self.study and self.study.target) or ("unseen/bpb" if self.resolved_design.kind == "subsets" else "panel/bpb")


@dataclass
class Planned:
    """One mixture of a planned sweep: its spec, its mixture_design row and the sweep table's columns for it."""

    spec: MixtureSpec
    design: dict[str, Any]
    label: dict[str, Any]


@dataclass
class Plan:
    """Every mixture a sweep will emit (study arm first), the predicted balance per arm, the pools read."""

    mixtures: list[Planned]
    balance: dict[str, dict]
    pools: dict[str, Pool] = field(default_factory=dict)


def pooled(cat: Catalog, spec: MixtureSpec, pools: dict[str, Pool]) -> Pool:
    """The spec's pool, read once per distinct pool definition."""
    dumped = spec.model_dump(mode="json")
    key = json.dumps({f: dumped[f] for f in POOL_FIELDS}, sort_keys=True)
    if key not in pools:
        pools[key] = load_pool(cat, spec)
    return pools[key]


def _require_run_tokenizer(cat: Catalog, sweep: SweepSpec) -> None:
    mode = sweep.base.tokenizer
    if mode == "bytes4":
        raise ValueError(f"sweep {sweep.name!r} is a designed study: its budgets count the run's BPE tokens; remove `tokenizer: bytes4` from base")
    if resolve_mode(cat.run_dir, mode) != "run":
        raise ValueError(f"sweep {sweep.name!r} is a designed study: its budgets count the run's BPE tokens, but {cat.run_dir / TOKENIZER_FILE}"
                         f" does not exist; reserve eval sets (`curate mix eval-split`), then `train tokenizer {cat.run_dir}`")


def _arm_design(sweep: SweepSpec, arm: str) -> Any:
    """The design an arm draws from: the sweep's, with the control's own number of draws when it sets one."""
    design = sweep.resolved_design
    if arm == "control" and sweep.control and sweep.control.draws and hasattr(design, "draws"):
        return design.model_copy(update={"draws": sweep.control.draws})
    return design


def _draws(cat: Catalog, sweep: SweepSpec, base: MixtureBase, arm_index: int, pools: dict[str, Pool],
           quality_ok: bool, design: Any) -> Chosen:
    if isinstance(design, VaryDesign):
        return Chosen(vary(design))
    probe = base.mixture(f"{sweep.name}-probe", sweep.name)
    pool = pooled(cat, probe, pools)
    tokens = dict(sorted(pool.frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows()))
    candidates: Iterator[list[Draw]]
    if isinstance(design, LineDesign):
        candidates, n = iter([line(design, tokens, probe)]), 1
    else:
        rng = np.random.default_rng([design.seed, arm_index])
        candidates, n = (subsets if design.kind == "subsets" else dirichlet)(design, tokens, probe, rng), design.balance  # type: ignore[arg-type, operator]
    factor = sweep.factor
    return choose(candidates, n, lambda d: factor_value(factor, d), Curves(pool.frame, probe, quality_ok), _exact(pool, probe))


def _exact(pool: Pool, probe: MixtureSpec) -> Callable[[Draw], dict[str, float | None]]:
    """A draw's covariates from its actual selection (cached: candidate designs share many draws)."""
    cache: dict[str, dict[str, float | None]] = {}

    def covariates_of(draw: Draw) -> dict[str, float | None]:
        key = json.dumps(draw.fields, sort_keys=True)
        if key not in cache:
            chosen, _ = select(pool, MixtureSpec.model_validate({**probe.model_dump(), **draw.fields}))
            cache[key] = covariates.values_of(covariates.with_pool_columns(chosen, pool.frame))
        return cache[key]

    return covariates_of


def _conflicts(sweep: SweepSpec, draw: Draw) -> None:
    if isinstance(sweep.resolved_design, VaryDesign):
        return
    given = sweep.base.model_fields_set - {"seed"}  # base seed: the root of each mixture's
    clash = sorted(k for k, v in draw.fields.items() if k in given and getattr(sweep.base, k) != v)
    if clash:
        raise ValueError(f"the {sweep.resolved_design.kind} design sets {clash} for each mixture; remove them from base")


def plan_sweep(cat: Catalog, sweep: SweepSpec) -> Plan:
    """Draw the design of every arm (no mixture is emitted): specs, design rows and predicted balance."""
    if sweep.is_study:
        _require_run_tokenizer(cat, sweep)
    covariates.check_user(cat, sweep.covariates)
    quality_ok = covariates.quality_usable(cat)[0]
    arms = [("study", sweep.base, "")]
    if sweep.control:
        arms.append(("control", sweep.base.model_copy(update={"group_by": sweep.control.group_by}), "c"))
    plan = Plan([], {})
    for index, (arm, base, prefix) in enumerate(arms):
        chosen = _draws(cat, sweep, base, index, plan.pools, quality_ok, _arm_design(sweep, arm))
        if chosen.balance:
            plan.balance[arm] = chosen.balance
        for i, draw in enumerate(chosen.draws):
            _conflicts(sweep, draw)
            spec = base.mixture(f"{sweep.name}-{prefix}{i:02d}", sweep.name, **draw.fields)
            row = {"sweep_id": sweep.name, "arm": arm, "factor": sweep.factor, "factor_value": factor_value(sweep.factor, draw),
                   "draw": draw.draw, "grouping": spec.group_by}
            plan.mixtures.append(Planned(spec, row, {k: v for k, v in draw.label.items() if not k.startswith("_")}))
    return plan


def preregister(cat: Catalog, sweep: SweepSpec) -> None:
    """Replace the sweep's ``studies`` row (designed studies only) and forget its old ``mixture_design`` rows."""
    with cat.transaction():
        cat.delete_where("studies", sweep_id=sweep.name)
        cat.delete_where("mixture_design", sweep_id=sweep.name)
        if sweep.is_study:
            cat.append("studies", pl.DataFrame([{
                "sweep_id": sweep.name, "design": sweep.resolved_design.kind, "factor": sweep.factor, "target": sweep.target,
                "grouping": sweep.base.group_by, "control_grouping": sweep.control.group_by if sweep.control else None,
                "confounds": (sweep.study or StudySpec()).confounds, "spec": json.dumps(sweep.model_dump(mode="json"), sort_keys=True)}],
                schema_overrides={"control_grouping": pl.String}))


def run_sweep(cat: Catalog, sweep: SweepSpec, workers: int | None = None, plan: Plan | None = None) -> pl.DataFrame:
    """Emit and score every mixture of the sweep; one row per mixture with its design and diversity profile."""
    plan = plan or plan_sweep(cat, sweep)
    preregister(cat, sweep)
    alignment = alignment_for(cat)
    rows = []
    for planned in plan.mixtures:
        design = planned.design | {"kind": sweep.resolved_design.kind, "design": sweep.resolved_design.model_dump(mode="json"),
                                   "balance": plan.balance.get(planned.design["arm"])}
        extras = Extras(user_covariates=sweep.covariates, alignment=alignment, design=design)
        manifest = emit(cat, planned.spec, pooled(cat, planned.spec, plan.pools), workers, sweep.diversity_sample or None,
                        sweep.n_boot, extras)
        profile = dict(cat.ask("mix/mixture_diversity", mixture_id=manifest["mixture_id"]).iter_rows())
        rows.append({"mixture_id": manifest["mixture_id"], "arm": design["arm"], "draw": design["draw"], sweep.factor: design["factor_value"],
                     **{k: v for k, v in planned.label.items() if k != sweep.factor}, "groups": ",".join(sorted(manifest["groups"])),
                     "n_docs": manifest["n_docs"], "n_tokens": manifest["n_tokens"], "budget_error_pct": manifest["budget_error_pct"],
                     "group_entropy_tokens": manifest["measured"]["group_entropy"],
                     "topic_entropy_tokens": manifest["measured"].get("topic_entropy"), **{k: profile.get(k) for k in PROFILE_METRICS}})
    return pl.DataFrame(rows)
