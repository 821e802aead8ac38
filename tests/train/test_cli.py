"""`train tokenizer / run / eval / sweep` end to end on a fixture run: every result lands in the catalog."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from curate.core.catalog import Catalog
from train.cli import app
from train.tokenizer import MANIFEST_PATH, TOKENIZER_PATH, count_tokens_in_run, load_tokenizer

TOKENS = 4096  # two optimizer steps of pico (16 x 128): enough to exercise every path
CPU = ("--device", "cpu", "--threads", "1")


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_tokenizer_run_eval(run_dir):
    _invoke("tokenizer", str(run_dir), "--vocab-size", "600")
    tokenizer, tok_hash = load_tokenizer(run_dir)
    assert tokenizer.get_vocab_size() == 600 and tokenizer.token_to_id("<|endoftext|>") == 0
    assert count_tokens_in_run(run_dir, ["the galaxy", ""]) [1] == 0

    out = _invoke("run", str(run_dir), "--mixture", "all", "--preset", "pico", "--tokens", str(TOKENS), *CPU)
    train_id = out.strip().splitlines()[-1]
    assert "non-embedding" in out and train_id == f"all.pico.s0.d0.t{TOKENS}"
    with Catalog(run_dir, read_only=True) as cat:
        run = cat.query("SELECT * FROM train_runs WHERE train_id = $t", {"t": train_id}).row(0, named=True)
        evals = cat.query("SELECT eval_set, metric, value, n FROM evals WHERE train_id = $t", {"t": train_id})
        assert cat.query("SELECT count(*) AS n FROM train_curve WHERE train_id = $t", {"t": train_id})["n"][0] == 2
    assert run["tokenizer_hash"] == tok_hash and run["device"] == "cpu" and run["tokens"] == TOKENS and run["sweep_id"] == "s"
    assert json.loads(run["config"])["preset"] == "pico" and run["n_params"] > run["n_params_non_embedding"] > 0
    bpb = {r["eval_set"]: r["value"] for r in evals.filter(pl.col("metric") == "bpb").iter_rows(named=True)}
    assert set(bpb) == {"id", "ood", "ood/gardening", "id/astronomy", "id/cooking", "id/law", "id/software"}
    assert all(0 < v < 20 for v in bpb.values())
    assert bpb["id"] == sum(v for k, v in bpb.items() if k.startswith("id/")) / 4

    out = _invoke("eval", str(run_dir), train_id, *CPU)
    assert "ood/gardening" in out and "continuation_acc" in out
    with Catalog(run_dir, read_only=True) as cat:
        again = cat.query("SELECT eval_set, metric, value, n FROM evals WHERE train_id = $t", {"t": train_id})
    assert again.sort("eval_set", "metric").equals(evals.sort("eval_set", "metric"))  # same checkpoint, same numbers



@pytest.mark.slow
def test_sweep_trains_every_mixture_once(run_dir):
    _invoke("tokenizer", str(run_dir), "--vocab-size", "600")
    out = _invoke("sweep", str(run_dir), "--sweep", "s", "--seeds", "1", "--preset", "pico", "--tokens", str(TOKENS), *CPU)
    summary = pl.read_csv(run_dir / "train" / "sweep-s.csv")
    for mixture in ("all", "one"):  # one line per run, saying what each check measured
        line = next(x for x in out.splitlines() if x.startswith(f"{mixture}.pico.s0.d1000") and "learned" in x)
        assert "nats below the unigram entropy" in line and "in the last 20% of steps" in line
    assert sorted(summary["mixture_id"]) == ["all", "one"] and (summary["seeds"] == 1).all()
    assert "done already" in _invoke("sweep", str(run_dir), "--sweep", "s", "--seeds", "1", "--preset", "pico", "--tokens", str(TOKENS), *CPU)
    with Catalog(run_dir, read_only=True) as cat:
        runs = cat.query("SELECT train_id, seed, data_seed FROM train_runs WHERE data_seed >= 1000 ORDER BY 1")
        joined = cat.query("SELECT count(*) AS n FROM train_runs r JOIN mixtures m USING (mixture_id)")["n"][0]
    assert runs["train_id"].to_list() == [f"all.pico.s0.d1000.t{TOKENS}", f"one.pico.s0.d1000.t{TOKENS}"]
    assert joined == 2


def test_tokenizer_refuses_to_fit_before_an_eval_split(run_dir):
    with Catalog(run_dir) as cat:
        for table in ("eval_sets", "contamination", "eval_splits"):
            cat.delete_where(table)
    refused = CliRunner().invoke(app, ["tokenizer", str(run_dir), "--vocab-size", "300"])
    assert refused.exit_code == 2 and "curate mix eval-split" in refused.output and "--no-eval-split" in refused.output
    assert not (run_dir / TOKENIZER_PATH).exists()
    _invoke("tokenizer", str(run_dir), "--vocab-size", "300", "--no-eval-split")  # the explicit opt-out, for non-study use
    manifest = json.loads((run_dir / MANIFEST_PATH).read_text())
    with Catalog(run_dir, read_only=True) as cat:
        fitted = cat.query("SELECT count(*) AS n, count(split_id) AS with_split FROM fit_docs WHERE fit = 'tokenizer'").row(0, named=True)
    assert manifest["eval_split"]["split_id"] is None and fitted["n"] > 0 and fitted["with_split"] == 0


def test_options_that_set_a_config_field_take_its_help_and_default():
    from typer.main import get_command

    from train.config import TrainConfig
    from train.search.config import SearchConfig

    commands = get_command(app).commands  # type: ignore[attr-defined]
    fields = {"mixture": "mixture_id", "threads": "num_threads", "eval_only": "eval_only", "proxies": "n_proxies", "model": "models"}
    checked = 0
    for command, model in (("run", TrainConfig), ("sweep", TrainConfig), ("eval", TrainConfig), ("search", SearchConfig)):
        for param in commands[command].params:
            field = model.model_fields.get(fields.get(param.name, param.name))
            if field is None or param.name in ("seeds", "presets"):
                continue
            assert param.help.startswith(field.description), (command, param.name)
            expected = ",".join(map(str, field.default)) if param.name == "eval_at" else field.default
            assert param.required or param.name in ("eval_only", "model") or param.default == expected, (command, param.name)
            checked += 1
    assert checked == 48  # run 16, sweep 11, eval 2, search 19
