"""Trainer correctness: overfit one batch, bpb by hand, schedule shape, resume equivalence, catalog rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from train.config import TrainConfig
from train.data import Batches
from train.evaluate import sequence_nll
from train.loop import lr_at, train
from train.model import build_model, parameter_counts


def _tokens(n: int = 20_000, vocab: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, vocab, 50)
    return np.tile(base, n // 50 + 1)[:n].astype(np.uint32)  # a repeating pattern: learnable


def test_presets_have_the_advertised_sizes():
    sizes = {p: parameter_counts(build_model(p, 8192, 0))[1] for p in ("nano", "micro", "small")}
    assert 0.8e6 < sizes["nano"] < 2e6 and 3e6 < sizes["micro"] < 8e6 and 12e6 < sizes["small"] < 30e6


def test_lr_schedule():
    cfg = TrainConfig(mixture_id="x", lr=1.0, min_lr_ratio=0.1, warmup_frac=0.1)
    assert lr_at(0, 100, cfg) == pytest.approx(0.1)
    assert lr_at(9, 100, cfg) == pytest.approx(1.0)
    assert lr_at(99, 100, cfg) == pytest.approx(0.1, abs=1e-3)
    wsd = TrainConfig(mixture_id="x", lr=1.0, schedule="wsd", warmup_frac=0.1)
    assert lr_at(50, 100, wsd) == 1.0 and lr_at(99, 100, wsd) < 0.2


def test_tiny_model_overfits_one_batch(tmp_path):
    torch.manual_seed(0)
    model = build_model("nano", 64, seed=0)
    batches = Batches(_tokens(300), seq_len=32, batch_size=4, seed=0)
    fixed = batches.batch(0)
    batches.batch = lambda step: fixed  # the same batch every step
    cfg = TrainConfig(mixture_id="x", lr=3e-3, warmup_frac=0.0, min_lr_ratio=1.0, checkpoint_every=1000)
    result = train(model, batches, cfg, 150, tmp_path, "cpu", progress=False)
    assert result.final_train_loss < 0.1


def test_bpb_equals_hand_computation():
    model = build_model("nano", 64, seed=1).eval()
    ids = [0, 5, 9, 12, 3, 0]
    with torch.no_grad():
        logits = model(torch.tensor([ids[:-1]])).logits[0]
        manual = -sum(torch.log_softmax(logits[i], -1)[ids[i + 1]].item() for i in range(len(ids) - 1))
    assert sequence_nll(model, ids, 256, "cpu") == pytest.approx(manual, rel=1e-5)
    assert sequence_nll(model, ids, 2, "cpu") > 0  # windows shorter than the document still work
    n_bytes = 10
    assert manual / math.log(2) / n_bytes > 0


def test_resume_gives_the_same_final_loss(tmp_path):
    cfg = TrainConfig(mixture_id="x", checkpoint_every=5, lr=2e-3)
    tokens = _tokens(20_000)

    def run(out, stop_at=None):
        return train(build_model("nano", 64, seed=0), Batches(tokens, 32, 4, seed=1), cfg, 20, out, "cpu", progress=False, stop_at=stop_at)

    full = run(tmp_path / "full")
    run(tmp_path / "cut", stop_at=12)  # killed after step 12; its last checkpoint is step 10
    (tmp_path / "cut" / "checkpoint.pt").unlink()
    run(tmp_path / "cut", stop_at=10)
    resumed = run(tmp_path / "cut")
    assert resumed.final_train_loss == pytest.approx(full.final_train_loss, rel=1e-4)
    assert [r["step"] for r in resumed.curve] == list(range(1, 21))


def test_loss_decreases_on_patterned_data(tmp_path):
    cfg = TrainConfig(mixture_id="x", lr=3e-3)
    result = train(build_model("nano", 64, seed=0), Batches(_tokens(), 64, 8, seed=0), cfg, 40, tmp_path, "cpu", progress=False)
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"] * 0.5
