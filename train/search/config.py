"""``SearchConfig``: one mixture search, typed once; every field is stored with the search (``search_runs.config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MODELS = ("linear", "loglinear", "gbm", "law")
Preset = Literal["pico", "nano", "micro", "small", "base"]


class SearchConfig(BaseModel):
    """What to search over, what to optimize, how many proxies, and how to validate the answer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("search", pattern=r"^[A-Za-z0-9._-]+$", description="Search id: the proxies' sweep_id; validation mixtures use <name>-val.")
    group_by: str = Field("source", description="The groups whose shares are searched: source, lang, topic_id, any doc_signals column or"
                          " sql:<expression> (curate.mix.groups).")
    where: str = Field("true", description="SQL over doc_signals restricting the pool, e.g. lang = 'en'.")
    target: str = Field("panel/bpb", description="What to minimize: panel/bpb (mean over the id eval sets), unseen/bpb (eval sets of groups"
                        " outside the search's pool), or <eval_set>/bpb (one set, or id / ood means).")
    preset: Preset = Field("nano", description="Proxy model size.")
    tokens: int = Field(gt=0, description="Training tokens of each proxy, also its mixture's token budget (the run's BPE tokens).")
    n_proxies: int = Field(32, ge=6, description="Proxy mixtures drawn from Dirichlet(alpha x natural token shares).")
    alpha: list[float] = Field([0.1, 0.5, 1.0, 2.0, 5.0], min_length=1, description="Total concentrations cycled over the draws"
                               " (RegMix scales the token distribution by 0.1 to 5: sparse and near-natural mixtures both occur).")
    heldout: float = Field(0.2, ge=0.1, lt=0.5, description="Share of proxies never used in fitting (heldout_spearman).")
    folds: int = Field(5, ge=2, description="k of the k-fold cross-validation that chooses the regressor.")
    models: list[Literal["linear", "loglinear", "gbm", "law"]] = Field(list(MODELS), min_length=1, description="Regressors compared by CV.")
    max_repeats: int = Field(4, ge=1, description="Repetition limit: a group's share is capped at its unique tokens x this / the budget.")
    min_share: float = Field(0.0, ge=0, lt=1, description="Smallest share of every group in the chosen mixture.")
    candidates: int = Field(100_000, ge=100, description="Candidate mixtures scored by the regressor (RegMix samples 1M).")
    top_k: int = Field(100, ge=1, description="The chosen mixture is the mean of the top_k candidates (RegMix: 100).")
    validation_seeds: int = Field(3, ge=0, description="Seeds per validation mixture (chosen and baselines); 0: no validation.")
    validation_preset: Preset | None = Field(None, description="Model size of the validation runs (default: the proxies'; one size up checks the transfer).")
    validation_tokens: int | None = Field(None, gt=0, description="Training tokens (and budget, BPE) of the validation runs (default: tokens).")
    eval_docs: int = Field(100, ge=1, description="Documents per eval set scored at the end of every run (the first by md5 of doc_id).")
    seed: int = Field(0, description="Seed of the draws, the CV folds, the held-out split and the candidates.")

    @model_validator(mode="after")
    def _check(self) -> SearchConfig:
        if min(self.alpha) <= 0:
            raise ValueError(f"alpha: concentrations must be positive, got {self.alpha}")
        n_fit = self.n_proxies - self.n_heldout
        if n_fit < 2 * self.folds:
            raise ValueError(f"{self.n_proxies} proxies leave {n_fit} to fit after {self.n_heldout} held out: too few for {self.folds}-fold CV"
                             f" (needs {2 * self.folds}); raise n_proxies or lower folds")
        if self.top_k > self.candidates:
            raise ValueError(f"top_k {self.top_k} exceeds candidates {self.candidates}")
        return self

    @property
    def n_heldout(self) -> int:
        return max(2, round(self.n_proxies * self.heldout))

    @property
    def validation_sweep(self) -> str:
        return f"{self.name}-val"

    def budget(self, validation: bool = False) -> int:
        return (self.validation_tokens or self.tokens) if validation else self.tokens
