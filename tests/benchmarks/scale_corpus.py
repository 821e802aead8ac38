"""Scale-test helpers shared by the benchmarks: a large JSONL corpus recombined from real text, and
the wall time and peak RSS of a command's whole process tree."""

from __future__ import annotations

import gzip
import subprocess
import time
from pathlib import Path

import numpy as np
import orjson
import psutil


def synthetic_jsonl(folder: Path, sources: Path, n_docs: int, seed: int) -> int:
    """n_docs documents of ~1 kB in 7 files (one per source), each a seeded recombination of real
    paragraphs; returns the bytes of text written."""
    paragraphs = [p for f in sorted(sources.glob("*.jsonl.gz"))
                  for line in gzip.decompress(f.read_bytes()).splitlines() for p in orjson.loads(line)["text"].split("\n\n")
                  if 80 < len(p) < 1500]
    rng, total = np.random.default_rng(seed), 0
    folder.mkdir(parents=True, exist_ok=True)
    files = [(folder / f"src{k}.jsonl").open("wb") for k in range(7)]
    try:
        for i in range(n_docs):
            text = "\n\n".join(paragraphs[j] for j in rng.integers(0, len(paragraphs), 3))[:2000]
            total += len(text.encode())
            files[i % 7].write(orjson.dumps({"id": f"s{i}", "text": text}) + b"\n")
    finally:
        for fh in files:
            fh.close()
    return total


def peak_rss(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; wall seconds and peak RSS (MB) of its process tree, sampled every 50 ms."""
    started, peak = time.perf_counter(), 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out = proc.stdout.read().decode() if proc.stdout else ""
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed:\n{out}")
    return time.perf_counter() - started, peak / 2**20, out
