"""Trainer throughput: our loop vs Hugging Face `Trainer` on the same model, data, batch and sequence length.

Data: Python's doc topics tokenized with a byte-level BPE trained here (vocab 4096), packed into
windows. Model: the `nano` (or --preset) Llama from our presets, same init seed for both. Both run the
same number of optimizer steps; the first 3 steps (warm-up, allocation) are excluded from tokens/s.
On CPU our loop runs twice: with its default matrix products (oneDNN on x86-64, ``train.gemm``) and
with aten's (MKL), so the table separates what the loop gains from what the GEMM backend gains.
The HF side runs in a peer venv under /work/peers (it needs `accelerate`, which mixlab does not), which
sees mixlab's packages through a .pth file. On CUDA, MFU = 6·N·tokens/s / peak bf16 FLOPS.

    python tests/benchmarks/bench_train.py --quick
    python tests/benchmarks/bench_train.py --smoke     # 6 steps of batch 4, no HF peer: seconds (the test suite's check)
    python tests/benchmarks/bench_train.py --device cuda --preset small --steps 200   # on a GPU machine
Last line: JSON with speedup_vs_hf_trainer, tokens_per_s, peak_rss_mb, device (and mfu on CUDA).
"""

from __future__ import annotations

import argparse
import json
import resource
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path("/work/peers/hf-venv")
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}

HF_SCRIPT = r"""
import json, sys, time
import numpy as np, torch
from transformers import Trainer, TrainingArguments, TrainerCallback
from train.model import build_model
args = json.loads(sys.argv[1])
windows = np.load(args["windows"])
class DS(torch.utils.data.Dataset):
    def __len__(self): return len(windows)
    def __getitem__(self, i):
        w = torch.from_numpy(windows[i].astype(np.int64))
        return {"input_ids": w[:-1], "labels": w[1:]}
class Shifted(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, input_ids, labels):
        logits = self.m(input_ids).logits
        return {"loss": torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), labels.flatten())}
class Clock(TrainerCallback):
    times = []
    def on_step_end(self, a, s, c, **k): self.times.append(time.perf_counter())
model = Shifted(build_model(args["preset"], args["vocab"], 0))
targs = TrainingArguments(output_dir=args["out"], per_device_train_batch_size=args["batch"], max_steps=args["steps"],
    learning_rate=3e-3, weight_decay=0.1, adam_beta2=0.95, max_grad_norm=1.0, lr_scheduler_type="cosine", warmup_steps=1,
    logging_strategy="no", save_strategy="no", report_to=[], use_cpu=args["device"] == "cpu", dataloader_num_workers=0,
    bf16=args["device"] == "cuda", seed=0, disable_tqdm=True)
clock = Clock()
Trainer(model=model, args=targs, train_dataset=DS(), callbacks=[clock]).train()
t = clock.times
print(json.dumps({"tokens_per_s": (len(t) - 3) * args["batch"] * args["seq"] / (t[-1] - t[2])}))
"""


def corpus_tokens(vocab: int) -> np.ndarray:
    from pydoc_data.topics import topics
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    texts = list(topics.values())
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"], show_progress=False))
    ids = [i for e in tok.encode_batch(texts) for i in (*e.ids, 0)]
    return np.asarray(ids * 4, dtype=np.uint32)


def ours(tokens: np.ndarray, preset: str, steps: int, batch: int, seq: int, vocab: int, device: str, cpu_matmul: str = "auto") -> float:
    from train.config import TrainConfig
    from train.data import Batches
    from train.loop import train
    from train.model import build_model

    cfg = TrainConfig(mixture_id="bench", batch_size=batch, checkpoint_every=10**9, device=device, cpu_matmul=cpu_matmul)
    times: list[float] = []
    batches = Batches(tokens, seq, batch, 0)
    original = batches.batch
    batches.batch = lambda step: (times.append(time.perf_counter()), original(step))[1]
    with tempfile.TemporaryDirectory() as out:
        train(build_model(preset, vocab, 0), batches, cfg, steps, Path(out), device, progress=False)
    if device == "cuda":
        torch.cuda.synchronize()
    times.append(time.perf_counter())
    return (len(times) - 4) * batch * seq / (times[-1] - times[3])


def hf(tokens: np.ndarray, preset: str, steps: int, batch: int, seq: int, vocab: int, device: str) -> float | None:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        pth = next((PEERS / "lib").glob("python3*/site-packages"))
        (pth / "mixlab_env.pth").write_text("\n".join([*site.getsitepackages(), str(ROOT)]) + "\n")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "accelerate"], check=True)
    n = len(tokens) // (seq + 1)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "w.npy", tokens[: n * (seq + 1)].reshape(n, seq + 1))
        args = {"windows": str(Path(tmp) / "w.npy"), "preset": preset, "vocab": vocab, "steps": steps, "batch": batch,
                "seq": seq, "device": device, "out": tmp}
        out = subprocess.run([str(python), "-c", HF_SCRIPT, json.dumps(args)], capture_output=True, text=True)
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="6 steps of batch 4 and no HF Trainer (its venv is built from PyPI)")
    parser.add_argument("--preset", default="nano")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    from train.config import PRESETS
    from train.gemm import resolve_cpu_matmul
    from train.model import build_model, parameter_counts

    steps = 6 if args.smoke else 15 if args.quick else args.steps
    if args.smoke:
        args.batch = 4
    seq, vocab = PRESETS[args.preset]["seq_len"], 4096
    tokens = corpus_tokens(vocab)
    mine = ours(tokens, args.preset, steps, args.batch, seq, vocab, args.device)
    on_cpu = args.device == "cpu"
    mine_aten = ours(tokens, args.preset, steps, args.batch, seq, vocab, args.device, "aten") if on_cpu else None
    theirs = None if args.smoke else hf(tokens, args.preset, steps, args.batch, seq, vocab, args.device)
    if theirs is None:
        print("HF Trainer: no figure (" + ("skipped by --smoke" if args.smoke else f"it failed in {PEERS}") + ")")
    n_params = parameter_counts(build_model(args.preset, vocab, 0))[0]
    result = {"speedup_vs_hf_trainer": round(mine / theirs, 2) if theirs else None, "tokens_per_s": round(mine),
              "hf_tokens_per_s": round(theirs) if theirs else None, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "device": args.device, "cpu_matmul": resolve_cpu_matmul("auto") if on_cpu else None,
              "speedup_vs_hf_trainer_aten_matmul": round(mine_aten / theirs, 2) if theirs and mine_aten else None,
              "preset": args.preset, "n_params": n_params, "batch": args.batch, "seq_len": seq, "steps": steps}
    if args.device == "cuda":
        name = torch.cuda.get_device_name()
        peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
        result["mfu"] = round(6 * n_params * mine / peak, 4) if peak else None
        result["gpu"] = name
    rows = [(f"mixlab ({result['cpu_matmul'] or 'cuda'})", mine), ("mixlab (aten)", mine_aten), ("HF Trainer", theirs)]
    print(f"{'trainer':>16} {'tokens/s':>10} {'vs HF':>6}")
    for name, value in rows:
        if value is not None:
            print(f"{name:>16} {value:>10,.0f} {value / theirs if theirs else float('nan'):>6.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
