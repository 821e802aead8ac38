"""Sweeps: every mixture of a mixture sweep x seeds (x a size ladder), following published data ablations.

Protocol (DCLM, Li et al. 2024; FineWeb, Penedo et al. 2024; DataDecide, Magnusson et al. 2025): within a
preset only the data varies (same tokenizer, model, schedule and token budget for every mixture);
initialization and data order come from separate seeds; several seeds per mixture show the noise floor;
an optional ladder of presets checks that the mixture ranking holds across model sizes. Finished runs are
skipped, so a sweep can be stopped and started again.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from scipy.stats import kendalltau

from curate.catalog import Catalog
from train.config import TrainConfig
from train.runs import run_training

DATA_SEED_OFFSET = 1000  # data-order seeds 1000, 1001, ... stay distinct from init seeds 0, 1, ...

SUMMARY_SQL = """
SELECT r.mixture_id, m.name, r.preset, count(DISTINCT r.train_id) AS seeds, any_value(r.tokens) AS tokens,
       avg(e.value) FILTER (WHERE e.eval_set = 'id') AS id_bpb,
       avg(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb,
       stddev_samp(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_sd,
       min(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_min,
       max(e.value) FILTER (WHERE e.eval_set = 'ood') AS ood_bpb_max,
       avg(r.final_val_loss) AS val_loss
FROM train_runs r JOIN mixtures m USING (mixture_id)
LEFT JOIN evals e ON e.train_id = r.train_id AND e.metric = 'bpb' AND e.eval_set IN ('id', 'ood')
WHERE r.sweep_id = $s AND r.status = 'done' AND list_contains($ids, r.train_id)
GROUP BY ALL ORDER BY r.preset, ood_bpb
"""


def sweep_configs(mixtures: list[str], presets: list[str], seeds: int, base: TrainConfig) -> list[TrainConfig]:
    """The runs of a sweep: presets x mixtures x seeds, identical except mixture, preset and seeds."""
    return [base.model_copy(update={"mixture_id": m, "preset": p, "seed": s, "data_seed": DATA_SEED_OFFSET + s})
            for p in presets for m in mixtures for s in range(seeds)]


def ranking_agreement(summary: pl.DataFrame) -> pl.DataFrame:
    """Kendall tau between the OOD-bpb ranking of mixtures under each pair of consecutive presets."""
    rows = []
    presets = summary["preset"].unique(maintain_order=True).to_list()
    for small, large in zip(presets, presets[1:], strict=False):
        pair = summary.filter(pl.col("preset") == small).join(summary.filter(pl.col("preset") == large), on="mixture_id")
        if pair.height >= 2:
            tau = kendalltau(pair["ood_bpb"], pair["ood_bpb_right"]).statistic
            rows.append({"presets": f"{small}->{large}", "mixtures": pair.height, "kendall_tau": float(tau)})
    return pl.DataFrame(rows, schema={"presets": pl.String, "mixtures": pl.Int64, "kendall_tau": pl.Float64})


def run_sweep(run_dir: Path, sweep_id: str, presets: list[str], seeds: int = 3, base: TrainConfig | None = None,
              progress: bool = True) -> pl.DataFrame:
    """Train every run of the sweep (skipping finished ones); write and return the summary table.

    The summary (one row per mixture x preset: seeds, mean id/ood bpb, ood sd and range) is written to
    ``train/sweep-<sweep_id>.csv``; with several presets, ``train/sweep-<sweep_id>-ranking.csv`` holds
    the rank agreement across sizes.
    """
    with Catalog(run_dir, read_only=True) as cat:
        mixtures = cat.query("SELECT mixture_id FROM mixtures WHERE sweep_id = $s ORDER BY name", {"s": sweep_id})["mixture_id"].to_list()
    if not mixtures:
        raise ValueError(f"no mixtures with sweep_id {sweep_id!r} in {run_dir}; emit them with `curate mix sweep`")
    base = base or TrainConfig(mixture_id=mixtures[0])
    ids = [run_training(run_dir, cfg, progress) for cfg in sweep_configs(mixtures, presets, seeds, base)]
    with Catalog(run_dir, read_only=True) as cat:
        summary = cat.query(SUMMARY_SQL, {"s": sweep_id, "ids": ids})
    out = Path(run_dir) / "train"
    summary.write_csv(out / f"sweep-{sweep_id}.csv")
    if len(presets) > 1:
        ranking_agreement(summary).write_csv(out / f"sweep-{sweep_id}-ranking.csv")
    return summary
