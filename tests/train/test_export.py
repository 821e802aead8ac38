"""`train export`: a Hugging Face folder that loads offline with identical logits; lm-eval tasks from eval sets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from curate.core.catalog import Catalog
from train.cli import app
from train.config import TrainConfig
from train.runs import load_finished, run_training
from train.tokenizer import load_tokenizer, train_tokenizer

TOKENS = 4096


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.train.conftest import build_run

    run_dir = build_run(tmp_path_factory.mktemp("export"))
    train_tokenizer(run_dir, 600)
    train_id = run_training(run_dir, TrainConfig(mixture_id="all", preset="pico", tokens=TOKENS, device="cpu", num_threads=1), progress=False)
    return run_dir, train_id


def test_export_loads_offline_with_identical_logits(trained, tmp_path, monkeypatch):
    run_dir, train_id = trained
    out = tmp_path / "hf"
    result = CliRunner().invoke(app, ["export", str(run_dir), train_id, "--out", str(out), "--lm-eval-tasks", str(tmp_path / "tasks")])
    assert result.exit_code == 0, result.output
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {p.name for p in out.iterdir()}
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hf_model = AutoModelForCausalLM.from_pretrained(out).eval()
    hf_tok = AutoTokenizer.from_pretrained(out)
    ours = load_finished(run_dir, train_id)[0]
    text = "The galaxy court ruled on the recipe; Ünïcode too."
    ids = load_tokenizer(run_dir)[0].encode(text, add_special_tokens=False).ids
    assert hf_tok(text, add_special_tokens=False)["input_ids"] == ids
    assert hf_tok.eos_token_id == 0 == hf_tok.bos_token_id
    x = torch.tensor([[0, *ids]])
    with torch.no_grad():
        assert torch.equal(hf_model(x).logits, ours(x).logits)
    tasks = sorted(p.name for p in (tmp_path / "tasks").glob("*.yaml"))
    assert tasks == ["mixlab_id.yaml", "mixlab_id_continuation.yaml", "mixlab_ood.yaml", "mixlab_ood_continuation.yaml"]
    assert "lm_eval run --model hf" in result.output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("lm_eval") is None and not (sys.prefix and shutil.which("lm_eval", path=f"{sys.prefix}/bin")),
                    reason="lm-evaluation-harness is not installed (pip install lm-eval)")
def test_lm_eval_harness_runs_on_the_export(trained, tmp_path):
    run_dir, train_id = trained
    CliRunner().invoke(app, ["export", str(run_dir), train_id, "--out", str(tmp_path / "hf"), "--lm-eval-tasks", str(tmp_path / "tasks")])
    lm_eval = shutil.which("lm_eval", path=f"{sys.prefix}/bin") or shutil.which("lm_eval")
    proc = subprocess.run([lm_eval, "run", "--model", "hf", "--model_args", f"pretrained={tmp_path / 'hf'}", "--include_path",
                           str(tmp_path / "tasks"), "--tasks", "mixlab_ood,mixlab_ood_continuation", "--device", "cpu",
                           "--batch_size", "4", "--output_path", str(tmp_path / "results")],
                          capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                                                              "HOME": str(tmp_path)}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(next((tmp_path / "results").rglob("results_*.json")).read_text())["results"]
    bpb = results["mixlab_ood"]["bits_per_byte,none"]
    with Catalog(run_dir, read_only=True) as cat:
        ours = cat.query("SELECT value FROM evals WHERE train_id = $t AND eval_set = 'ood' AND metric = 'bpb'", {"t": train_id})["value"][0]
    assert bpb == pytest.approx(ours, rel=0.1)  # the harness scores the same documents the same way, up to windowing
    assert 0 <= results["mixlab_ood_continuation"]["acc,none"] <= 1
