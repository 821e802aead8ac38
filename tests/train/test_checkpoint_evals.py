"""Checkpoint evaluations and per-document losses: at the configured steps, kept across a stop and resume,
recorded with the run, and summing exactly to each set's bits per byte."""

from __future__ import annotations

import polars as pl
import pytest
import torch

from curate.core.catalog import Catalog
from curate.mix.eval_split import eval_texts
from train.config import TrainConfig
from train.runs import reevaluate, run_training
from train.tokenizer import train_tokenizer

STEPS = 8
CFG = TrainConfig(mixture_id="all", preset="pico", tokens=STEPS * 16 * 128, device="cpu", num_threads=1, checkpoint_every=100,
                  eval_at=[0.25, 0.5, 0.75], checkpoint_eval_docs=2)


def _per_set_bpb(docs: pl.DataFrame) -> dict[tuple[int, str], float]:
    sums = docs.group_by("step", "eval_set").agg((pl.col("nll_bits").sum() / pl.col("n_bytes").sum()).alias("bpb"))
    return {(s, e): b for s, e, b in sums.iter_rows()}


def test_checkpoint_evals_survive_a_stop_and_sum_to_the_set_bpb(run_dir, capsys):
    train_tokenizer(run_dir, 600)
    train_id = run_training(run_dir, CFG, progress=False, stop_at=5)  # as a kill after step 5 would
    state = torch.load(run_dir / "train" / train_id / "checkpoint.pt", weights_only=False)
    assert [c["step"] for c in state["checkpoint_evals"]] == [2, 4]
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM checkpoint_evals")["n"][0] == 0  # nothing recorded before the end
    run_training(run_dir, CFG, progress=False)  # resumes at step 5: steps 2 and 4 can only come from the checkpoint
    line = capsys.readouterr().out
    assert "nats below the unigram entropy" in line and "in the last 20% of steps" in line
    assert "checkpoint evals" in line and "at steps 2, 4, 6" in line

    with Catalog(run_dir, read_only=True) as cat:
        checkpoints = cat.query("SELECT * FROM checkpoint_evals WHERE train_id = $t", {"t": train_id})
        docs = cat.query("SELECT * FROM eval_doc_losses WHERE train_id = $t", {"t": train_id})
        evals = cat.query("SELECT eval_set, value FROM evals WHERE train_id = $t AND metric = 'bpb'", {"t": train_id})
        run = cat.query("SELECT learned, converged, steps FROM train_runs").row(0, named=True)
        sets = eval_texts(cat)
    assert run["steps"] == STEPS and isinstance(run["learned"], bool) and isinstance(run["converged"], bool)
    assert sorted(set(checkpoints["step"])) == [2, 4, 6] and set(checkpoints["metric"]) == {"bpb"}
    assert (checkpoints["tokens"] == checkpoints["step"] * 16 * 128).all()
    assert set(checkpoints["eval_set"]) == {*sets, "id", "ood"}
    assert sorted(set(docs["step"])) == [2, 4, 6, STEPS]
    counts = dict(docs.group_by("step").len().iter_rows())
    assert counts == {2: 2 * len(sets), 4: 2 * len(sets), 6: 2 * len(sets), STEPS: sum(len(s.doc_ids) for s in sets.values())}

    by_doc = {(r["eval_set"], r["doc_id"]): r["n_bytes"] for r in docs.filter(pl.col("step") == STEPS).iter_rows(named=True)}
    assert by_doc == {(name, d): len(t.encode("utf-8")) for name, s in sets.items() for d, t in zip(s.doc_ids, s.texts, strict=True)}
    summed = _per_set_bpb(docs)
    for name, value in evals.filter(pl.col("eval_set").is_in(list(sets))).iter_rows():
        assert summed[(STEPS, name)] == pytest.approx(value, rel=1e-12)  # the final step: exactly the evals row
    for step, name, value in checkpoints.filter(pl.col("eval_set").is_in(list(sets))).select("step", "eval_set", "value").iter_rows():
        assert summed[(step, name)] == pytest.approx(value, rel=1e-12)
    kinds = checkpoints.filter(pl.col("eval_set") == "id").sort("step")["value"].to_list()
    per_set = checkpoints.filter(pl.col("eval_set").str.starts_with("id/")).group_by("step").agg(pl.col("value").mean()).sort("step")
    assert kinds == pytest.approx(per_set["value"].to_list())  # a kind's row is the mean of its sets, as in evals

    reevaluate(run_dir, train_id, "cpu", 1)  # replaces the final step's document losses, keeps the checkpoints'
    with Catalog(run_dir, read_only=True) as cat:
        again = cat.query("SELECT * FROM eval_doc_losses WHERE train_id = $t", {"t": train_id})
    assert again.sort("step", "eval_set", "doc_id").equals(docs.select(again.columns).sort("step", "eval_set", "doc_id"))


def test_eval_at_takes_fractions_inside_the_run():
    from pydantic import ValidationError

    from train.loop import checkpoint_eval_steps

    assert checkpoint_eval_steps(8, CFG.eval_at) == {2, 4, 6}
    assert checkpoint_eval_steps(3, [0.1, 0.5, 0.9]) == {1, 2}  # never the last step: the final evaluation covers it
    assert TrainConfig(mixture_id="x", eval_at=[0.75, 0.25, 0.25]).eval_at == [0.25, 0.75]
    with pytest.raises(ValidationError, match="strictly between 0 and 1"):
        TrainConfig(mixture_id="x", eval_at=[0.5, 1.0])
