"""What ``curate demo`` can be told (:class:`DemoSettings`, its command-line options) and its sizes
(:class:`DemoSize`): every knob, default and help text of the demo, written once.

Token counts here are the run's BPE tokens (the demo trains its tokenizer before it sizes the study, and
the study's mixtures count budgets with it: ``tokenizer: run``), the unit training counts too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["quick", "full", "tiny"]


class DemoSize(BaseModel):
    """One size of the demo: corpus, study and training budgets."""

    model_config = ConfigDict(extra="forbid")

    max_bytes: int = Field(gt=0, description="Corpus bytes per domain (documents in a seeded order up to this size).")
    per_group: int = Field(ge=1, description="Panel (eval) documents per domain: the recipe's eval_split.per_group.")
    draws: int = Field(ge=1, description="Subsets per k level of the study arm.")
    control_draws: int = Field(ge=1, description="Subsets per k level of the negative control arm.")
    budget: int = Field(gt=0, description="BPE tokens per mixture and per training run (the mixture's token_budget, train --tokens).")
    preset: str = Field(description="Model size trained on every mixture.")
    replicate: int = Field(ge=0, description="Mixtures trained with a second seed (the seed noise).")
    vocab: int = Field(ge=257, description="BPE vocabulary size of the run tokenizer.")
    probe_docs: int = Field(ge=1, description="Documents per eval set the probes score at the end.")
    max_domains: int = Field(ge=5, description="Most domains the study holds (the largest that fill a one-domain mixture).")


SIZES: dict[Mode, DemoSize] = {
    "quick": DemoSize(max_bytes=600_000, per_group=16, draws=2, control_draws=2, budget=300_000, preset="nano", replicate=2, vocab=1024,
                      probe_docs=4, max_domains=6),
    "full": DemoSize(max_bytes=2_600_000, per_group=24, draws=4, control_draws=3, budget=1_000_000, preset="nano", replicate=6, vocab=1024,
                     probe_docs=8, max_domains=8),
    "tiny": DemoSize(max_bytes=400_000, per_group=4, draws=1, control_draws=1, budget=6_000, preset="pico", replicate=1, vocab=600,
                     probe_docs=2, max_domains=5),
}


class DemoSettings(BaseModel):
    """One ``curate demo``: the command's options are these fields (help and defaults from here)."""

    model_config = ConfigDict(extra="forbid")

    out: Path = Field(Path("runs/demo"), description="Demo folder (corpus, recipe, run).")
    quick: bool = Field(False, description="A smoke run of the whole loop (a few minutes): not an answer.")
    workers: int = Field(2, ge=1, description="Worker processes.")
    seed: int = Field(0, description="Pipeline seed: corpus sample, curation, eval split, design draws (use a new --out per seed).")
    mode: Mode | None = Field(None, description="The size (SIZES); default: quick with `quick`, else full; tiny is the test suite's.")
    progress: bool = Field(True, description="Show progress bars while curating.")

    @property
    def size_name(self) -> Mode:
        return self.mode or ("quick" if self.quick else "full")

    @property
    def size(self) -> DemoSize:
        return SIZES[self.size_name]
