"""Sanity of the ablation signal: one domain vs four domains, 3 seeds of `nano` on CPU.

On the domains only the four-domain mixture contains, it must give a clearly lower bpb, with seed
ranges that do not overlap: otherwise the trainer could not rank mixtures at all. (An earlier version
compared bpb on a fifth, unseen domain of the generated corpus; that gap existed only while the models
were barely past unigram statistics, and closes once they learn the shared sentence templates.)
"""

from __future__ import annotations

import polars as pl
import pytest

from curate.core.catalog import Catalog
from tests.train.conftest import build_run
from train.config import TrainConfig
from train.sweep import run_sweep
from train.tokenizer import train_tokenizer

TOKENS = 96 * 16 * 128  # 96 steps of nano over 200 documents per domain: neither mixture repeats much


@pytest.mark.slow
def test_one_domain_and_all_domains_separate_on_the_domains_only_one_has(tmp_path):
    run_dir = build_run(tmp_path, docs_per_domain=200, eval_per_group=5)
    train_tokenizer(run_dir, 1024)
    run_sweep(run_dir, "s", ["nano"], seeds=3, base=TrainConfig(mixture_id="-", tokens=TOKENS, device="cpu"), progress=False,
              workers=2)
    with Catalog(run_dir, read_only=True) as cat:
        bpb = cat.query("SELECT r.mixture_id, r.seed, avg(e.value) AS value FROM evals e JOIN train_runs r USING (train_id)"
                        " WHERE e.eval_set IN ('id/astronomy', 'id/cooking', 'id/law') AND e.metric = 'bpb' GROUP BY ALL ORDER BY 1, 2")
    print(bpb)
    ranges = {m: (g["value"].min(), g["value"].max()) for (m,), g in bpb.group_by("mixture_id")}
    assert bpb.group_by("mixture_id").len().filter(pl.col("len") == 3).height == 2
    assert ranges["all"][1] < ranges["one"][0], ranges  # non-overlapping: every all-domain seed beats every one-domain seed
