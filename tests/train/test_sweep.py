"""Sweep protocol: only the data varies within a preset; separate init and data seeds; rank agreement."""

from __future__ import annotations

import polars as pl
import pytest

from train.config import TrainConfig
from train.sweep import DATA_SEED_OFFSET, ranking_agreement, spread, sweep_configs


def test_only_the_data_and_seeds_vary_within_a_preset():
    base = TrainConfig(mixture_id="-", tokens=10_000, lr=1e-3)
    cfgs = sweep_configs(["a", "b"], ["nano", "micro"], 3, base)
    assert len(cfgs) == 2 * 2 * 3
    fixed = {k for k in TrainConfig.model_fields if k not in {"mixture_id", "preset", "seed", "data_seed"}}
    assert all(c.model_dump(include=fixed) == base.model_dump(include=fixed) for c in cfgs)
    assert {(c.seed, c.data_seed) for c in cfgs} == {(s, DATA_SEED_OFFSET + s) for s in range(3)}
    for preset in ("nano", "micro"):
        seeds = {m: sorted(c.seed for c in cfgs if c.preset == preset and c.mixture_id == m) for m in "ab"}
        assert seeds == {"a": [0, 1, 2], "b": [0, 1, 2]}  # every mixture sees the same seeds


def test_replicated_mixtures_are_spread_and_get_one_seed_more():
    mixtures = [f"m{i:02d}" for i in range(10)]
    assert spread(mixtures, 4) == ["m00", "m03", "m06", "m09"] and spread(mixtures, 0) == [] and spread(mixtures, 20) == mixtures
    cfgs = sweep_configs(mixtures, ["nano"], 1, TrainConfig(mixture_id="-"), replicate=4)
    seeds = {m: sorted(c.seed for c in cfgs if c.mixture_id == m) for m in mixtures}
    assert seeds["m00"] == seeds["m09"] == [0, 1] and seeds["m01"] == [0] and len(cfgs) == 14


def test_ranking_agreement_across_sizes():
    summary = pl.DataFrame({"mixture_id": list("abcabc"), "preset": ["nano"] * 3 + ["micro"] * 3,
                            "ood_bpb": [1.0, 2.0, 3.0, 0.5, 0.9, 1.2]})
    assert ranking_agreement(summary).row(0, named=True) == {"presets": "nano->micro", "mixtures": 3, "kendall_tau": pytest.approx(1.0)}
    flipped = summary.with_columns(pl.when(pl.col("preset") == "micro").then(-pl.col("ood_bpb")).otherwise(pl.col("ood_bpb")).alias("ood_bpb"))
    assert ranking_agreement(flipped)["kendall_tau"][0] == pytest.approx(-1.0)
    assert ranking_agreement(summary.filter(pl.col("preset") == "nano")).height == 0


def test_a_sweep_holds_every_arm_of_its_design(run_dir):
    from curate.core.catalog import Catalog
    from train.sweep import sweep_mixtures

    with Catalog(run_dir) as cat:  # a control-arm mixture emitted under another sweep_id, registered in the design
        cat.execute("UPDATE mixtures SET sweep_id = 's-control' WHERE mixture_id = 'one'")
        cat.append("mixture_design", pl.DataFrame([
            {"mixture_id": m, "sweep_id": "s", "arm": arm, "factor": "log2_k", "factor_value": v, "draw": 0, "grouping": g, "groups": ["x"]}
            for m, arm, v, g in (("all", "study", 2.0, "source"), ("one", "control", 0.0, "bucket:8"))]))
        assert sweep_mixtures(cat, "s") == ["all", "one"] and sweep_mixtures(cat, "s-control") == ["one"]


def test_a_sweep_run_again_with_workers_has_nothing_to_train(run_dir):
    """Every run finished already: the worker pool is not even started (it used to fail on the empty plan list)."""
    from train.sweep import _train_all

    _train_all(run_dir, [], workers=2, progress=False)


def test_killing_a_sweep_kills_its_workers(run_dir):
    import subprocess
    import sys

    from tests.curate.test_worker_lifetime import kill_driver_once_it_has_two_workers
    from train.tokenizer import train_tokenizer

    train_tokenizer(run_dir, 300)
    cmd = [sys.executable, "-m", "train", "sweep", str(run_dir), "--sweep", "s", "--preset", "pico", "--seeds", "1", "--workers", "2",
           "--device", "cpu", "--tokens", "50000000"]
    kill_driver_once_it_has_two_workers(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
