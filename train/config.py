"""TrainConfig and the model PRESETS. Every default says why it is what it is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# (layers, hidden size, heads, context). Non-embedding parameters ≈ 12·L·d² (attention 4d², MLP 8d²
# with the Llama MLP of width 8d/3): nano ≈ 0.4M, micro ≈ 1.4M, small ≈ 18.9M, base ≈ 124M. nano and
# micro are the two proxy scales of a CPU ablation (`curate demo`): with a 1,024-token BPE they get
# 1.5-2 nats below the unigram entropy of their data in about a million tokens (a minute or two on a
# core). pico (≈ 0.1M) exists for smoke tests of the whole command line; it is too small for ablations.
CpuMatmul = Literal["auto", "onednn", "aten"]  # fp32 matrix products on CPU (train.gemm)

PRESETS: dict[str, dict[str, int]] = {
    "pico": {"n_layer": 2, "d_model": 64, "n_head": 2, "seq_len": 128},
    "nano": {"n_layer": 2, "d_model": 128, "n_head": 4, "seq_len": 128},
    "micro": {"n_layer": 3, "d_model": 192, "n_head": 4, "seq_len": 128},
    "small": {"n_layer": 6, "d_model": 512, "n_head": 8, "seq_len": 512},
    "base": {"n_layer": 12, "d_model": 928, "n_head": 16, "seq_len": 1024},
}
# Peak learning rate per preset when TrainConfig.lr is not set: smaller models tolerate higher rates
# (nanoGPT: 1e-3 at 10M parameters, higher below); measured on the demo corpus for nano and micro.
PRESET_LR: dict[str, float] = {"pico": 6e-3, "nano": 6e-3, "micro": 3e-3, "small": 2e-3, "base": 1e-3}


class TrainConfig(BaseModel):
    """One training run. Only the data (mixture) and seeds should differ between runs of a sweep."""

    model_config = ConfigDict(extra="forbid")

    mixture_id: str = Field(description="Mixture to train on, by id (see `reports show mixtures RUN`).")
    preset: Literal["pico", "nano", "micro", "small", "base"] = Field("nano", description="Model size: nano | micro | small | base (pico: smoke tests); see PRESETS.")
    tokens: int | None = Field(None, gt=0, description="Training tokens per run, in the run tokenizer's BPE tokens (EOS included); default 20 per"
                                  " parameter (Chinchilla-style, as DCLM/FineWeb ablations).")
    seed: int = Field(0, description="Initialization seed.")
    data_seed: int | None = Field(None, description="Data order seed (default: seed); separate so init and order vary independently.")
    batch_size: int = Field(16, ge=1, description="Sequences per optimizer step (after accumulation); small models train well with small batches.")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per step: batch_size must be divisible by it.")
    lr: float | None = Field(None, gt=0, description="Peak learning rate (default: the preset's PRESET_LR; small models tolerate high rates).")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="Final lr as a fraction of the peak (cosine floor).")
    warmup_frac: float = Field(0.05, ge=0, lt=1, description="Warmup steps as a fraction of all steps.")
    schedule: Literal["cosine", "wsd"] = Field("cosine", description="cosine decay, or warmup-stable-decay (last 20% decays).")
    weight_decay: float = Field(0.1, ge=0, description="Decoupled AdamW decay on matrices only (not norms or biases).")
    betas: tuple[float, float] = Field((0.9, 0.95), description="AdamW betas common in LM pretraining.")
    grad_clip: float = Field(1.0, gt=0, description="Global gradient norm clip, standard for stability.")
    eval_every: int | None = Field(None, ge=1, description="Steps between validation losses in train_curve (default: a tenth of the run); also measured where the learned check's tail starts and at the end.")
    checkpoint_every: int = Field(100, ge=1, description="Steps between atomic checkpoints (resume points).")
    device: str = Field("auto", description="auto (cuda if available, else cpu), cpu or cuda.")
    compile: bool = Field(False, description="torch.compile the model (worth it on GPU for long runs).")
    eval_docs: int = Field(100, ge=1, description="Documents per eval set scored at the end: a fixed subset (md5 of doc_id order) so that a large held-out group does not cost more than training; the whole set stays out of every mixture.")
    val_seqs: int = Field(32, ge=0, description="Windows of the mixture's held-out documents (train.data.HOLDOUT_FRAC, every copy out of training) scored for the validation loss.")
    cpu_matmul: CpuMatmul = Field("auto", description="fp32 matrix products on CPU: oneDNN (auto on x86-64; 2.4x aten's MKL sgemm on AMD EPYC, same IEEE fp32) or aten.")
    num_threads: int | None = Field(None, ge=1, description="CPU threads for torch; default: the cores this process may use (torch's own default can oversubscribe containers).")
    eval_batch_size: int = Field(16, ge=1, description="Windows per forward pass in evaluation; batching amortizes per-call overhead.")
    eval_at: list[float] = Field([0.25, 0.5, 0.75], description="Fractions of the run after which every eval set is scored in bits per byte (checkpoint_evals, eval_doc_losses), so rank changes during training show; empty: none.")
    eval_only: list[str] | None = Field(None, description="Score only these eval sets (eval_sets.eval_set names); default: every set. A study that answers on some groups need not pay for the others.")
    probe_docs: int | None = Field(None, ge=1, description="Documents per eval set the three probes score at the end (the first by md5(doc_id)); None: every scored document. The probes cost about 1.7x the bits-per-byte pass, so large sweeps that answer with bits per byte can cap them.")
    checkpoint_eval_docs: int = Field(8, ge=1, description="Documents per eval set scored at those checkpoints: the first by md5(doc_id), inside the final evaluation's set; 8 of 32 keeps three checkpoints near 10% of a nano run's training time.")

    @field_validator("eval_at")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        bad = [f for f in value if not 0 < f < 1]
        if bad:
            raise ValueError(f"eval_at holds fractions of the run strictly between 0 and 1 (the end is always evaluated), got {bad}")
        return sorted(set(value))

    def peak_lr(self) -> float:
        """The peak learning rate: ``lr`` if set, else the preset's."""
        return self.lr if self.lr is not None else PRESET_LR[self.preset]
