"""Ingest throughput and memory: MB/s and docs/s on 1 and 2 workers, peak RSS of the whole process tree.

The input is JSONL generated from real text on this machine (Python's doc topics and /usr/share/doc
files, cut into paragraphs and recombined with a seeded RNG), so documents look like real text. The
peak RSS is sampled every 50 ms over the driver and all its worker processes, summed.

    python tests/benchmarks/bench_ingest.py --quick      # ~300 MB input, < 3 minutes
    python tests/benchmarks/bench_ingest.py --gb 5       # the 5 GB bounded-memory check
    python tests/benchmarks/bench_ingest.py --smoke      # 300 kB in a fresh folder: seconds (the test suite's check)

Last line: one JSON object with mb_per_s, docs_per_s (best worker count), peak_rss_mb (max over runs).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil
import yaml

from curate.demo.corpus import debian_docs, python_docs


def real_paragraphs() -> list[str]:
    paras = []
    for _, text in list(python_docs()) + list(debian_docs("changelogs"))[:400]:
        paras.extend(p.strip() for p in text.split("\n\n") if len(p.strip()) > 80)
    return paras


def generate(path: Path, n_bytes: int, seed: int = 0) -> int:
    """Write JSONL documents of 1-8 paragraphs until the file reaches n_bytes; returns the doc count."""
    rng = random.Random(seed)
    paras = real_paragraphs()
    n = written = 0
    with path.open("wb") as f:
        while written < n_bytes:
            text = "\n\n".join(rng.choice(paras) for _ in range(rng.randint(1, 8)))
            line = orjson.dumps({"id": n, "text": text, "meta": {"n": n % 97}}) + b"\n"
            f.write(line)
            written += len(line)
            n += 1
    return n


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_ingest(data: Path, workers: int, work: Path) -> tuple[float, float]:
    """Ingest in a subprocess; returns (wall seconds, peak RSS in MB of the process tree)."""
    recipe = work / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "bench", "inputs": [{"path": str(data), "id_field": "id"}],
                                      "ingest": {"split_bytes": 128 << 20}}))
    out = work / f"run-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "curate", "run", str(recipe), "--out", str(out), "--workers", str(workers), "--no-progress"]
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(proc))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(err.decode())
    wall = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return wall, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 MB input")
    parser.add_argument("--smoke", action="store_true", help="300 kB input in a fresh temporary folder, removed after")
    parser.add_argument("--gb", type=float, default=2.0, help="input size in GB (ignored with --quick)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "mixlab-bench-ingest")
    args = parser.parse_args()
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="mixlab-bench-ingest-") as tmp:
            measure(300 << 10, Path(tmp))
    else:
        measure(300 << 20 if args.quick else int(args.gb * (1 << 30)), args.workdir)


def measure(size: int, workdir: Path) -> None:
    """Ingest ``size`` bytes of generated JSONL (kept in ``workdir`` for the next run) with 1 and 2 workers; print the figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / f"input-{size}.jsonl"
    if not data.exists():
        print(f"generating {size / 1e9:.2f} GB of JSONL from real text ...", file=sys.stderr)
        tmp = data.with_suffix(".tmp")
        generate(tmp, size)
        tmp.replace(data)
    n_docs = sum(1 for _ in data.open("rb"))
    mb = data.stat().st_size / 1e6
    rows = []
    for workers in (1, 2):
        wall, peak = run_ingest(data, workers, workdir)
        rows.append({"workers": workers, "wall_s": wall, "mb_per_s": mb / wall, "docs_per_s": n_docs / wall, "peak_rss_mb": peak})
    print(f"input: {mb:,.0f} MB, {n_docs:,} documents")
    print(f"{'workers':>8} {'wall s':>8} {'MB/s':>8} {'docs/s':>10} {'peak RSS MB':>12} {'speedup':>8}")
    for r in rows:
        print(f"{r['workers']:>8} {r['wall_s']:>8.1f} {r['mb_per_s']:>8.1f} {r['docs_per_s']:>10,.0f} {r['peak_rss_mb']:>12,.0f}"
              f" {rows[0]['wall_s'] / r['wall_s']:>8.2f}")
    best = max(rows, key=lambda r: r["mb_per_s"])
    print(json.dumps({
        "mb_per_s": round(best["mb_per_s"], 1), "docs_per_s": round(best["docs_per_s"]),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows)), "input_mb": round(mb),
        "docs": n_docs, "speedup_2_workers": round(rows[0]["wall_s"] / rows[1]["wall_s"], 2),
        "mb_per_s_1_worker": round(rows[0]["mb_per_s"], 1),
    }))


if __name__ == "__main__":
    main()
