"""Sanity of the ablation signal: one domain vs four domains, 3 seeds of `nano` on CPU.

The four-domain mixture must give a clearly lower out-of-distribution bpb (on a domain neither mixture
contains), with seed ranges that do not overlap: otherwise the trainer could not rank mixtures at all.
"""

from __future__ import annotations

import polars as pl
import pytest

from curate.catalog import Catalog
from tests.train.conftest import build_run
from train.config import TrainConfig
from train.sweep import run_sweep
from train.tokenizer import train_tokenizer

# 48 steps of nano over 200 documents per domain: neither mixture repeats much. With 80 per domain and
# 24 steps, seeds of the four-domain mixture spread over 0.33 bpb and overlapped the one-domain range.
TOKENS = 48 * 16 * 256


@pytest.mark.slow
def test_one_domain_and_all_domains_separate_on_ood_bpb(tmp_path):
    run_dir = build_run(tmp_path, docs_per_domain=200, eval_per_group=5)
    train_tokenizer(run_dir, 2048)
    run_sweep(run_dir, "s", ["nano"], seeds=3, base=TrainConfig(mixture_id="-", tokens=TOKENS, device="cpu"), progress=False)
    with Catalog(run_dir, read_only=True) as cat:
        ood = cat.query("SELECT r.mixture_id, r.seed, e.value FROM evals e JOIN train_runs r USING (train_id)"
                        " WHERE e.eval_set = 'ood' AND e.metric = 'bpb' ORDER BY 1, 2")
    print(ood)
    ranges = {m: (g["value"].min(), g["value"].max()) for (m,), g in ood.group_by("mixture_id")}
    assert ood.group_by("mixture_id").len().filter(pl.col("len") == 3).height == 2
    assert ranges["all"][1] < ranges["one"][0], ranges  # non-overlapping: every all-domain seed beats every one-domain seed
