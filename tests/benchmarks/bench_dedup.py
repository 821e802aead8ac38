"""MinHash dedup benchmark: accuracy vs brute force, signature speed vs datasketch and rensa, end to end.

Accuracy: licence/copyright files found on this machine (natural near-duplicates) plus unrelated Python
doc sections; truth = every pair whose exact Jaccard of word 5-gram shingle sets (pure-Python reference
shingles, compared as byte strings) is >= 0.8. Predicted = pairs sharing an LSH bucket with the stage's
default (bands, rows), and the same after ``verify`` (our compiled exact Jaccard of each candidate).

Speed: ~3 kB documents cut from Python's doc topics, 1 core (NUMBA_NUM_THREADS=1), raw text to signature
with the same shingles for all: ours (normalize + shingle + hash + permute, compiled) with the default
``words64`` hash and with ``sha1`` (datasketch's own hash, identical signatures); datasketch per-shingle
``MinHash.update`` (the contract's baseline) and ``update_batch``; rensa (Rust, own venv under
/work/peers) fed the fastest Python shingling we could write. Peers are given already-normalized text,
so their figures leave out normalization while ours include it.

End to end: ``--docs N`` documents made by mutating real text (a share are near-copies of earlier ones),
as JSONL; ingest + ``minhash_dedup`` with 2 workers in a child process (peak RSS = largest sampled sum
over the process tree), next to datasketch ``MinHashLSH`` in memory (own process) on the first
``--ds-docs`` of the same documents.

    python tests/benchmarks/bench_dedup.py --quick          # < 3 min on 2 cores
    python tests/benchmarks/bench_dedup.py --docs 1000000   # the 1M figure
    python tests/benchmarks/bench_dedup.py --smoke          # tiny inputs, no rensa: seconds (the test suite's check)
Last line: JSON with recall, precision, precision_verified, sig_speedup_vs_datasketch, sig_speedup_vs_rensa, docs, peak_rss_mb.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import psutil  # noqa: E402

from curate.dedup.lsh import band_hashes  # noqa: E402
from curate.dedup.minhash import signatures  # noqa: E402
from curate.dedup.shingles import jaccard_pairs, shingle_sets, shingle_text, shingles  # noqa: E402
from curate.demo.corpus import debian_docs, package_files, python_docs  # noqa: E402
from curate.stages.minhash_dedup import MinhashDedupParams  # noqa: E402

PEERS = Path("/work/peers/rensa-venv")
RENSA_SCRIPT = """
import sys, time, json
from rensa import RMinHash
texts = json.load(open(sys.argv[1]))
t = time.perf_counter()
for text in texts:
    w = text.split(" ")
    m = RMinHash(num_perm=128, seed=1)
    m.update([" ".join(g) for g in zip(w, w[1:], w[2:], w[3:], w[4:])] or [text])
    m.digest()
print(len(texts) / (time.perf_counter() - t))
"""
E2E_CHILD = """
import sys, time, json
from pathlib import Path
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
base = Path(sys.argv[1])
recipe = parse_recipe({"name": "bench", "inputs": [{"path": "docs.jsonl", "id_field": "id"}],
                       "ingest": {"shard_docs": 50000}, "stages": [{"stage": "minhash_dedup", "threshold": 0.8}]})
t = time.perf_counter()
RecipeRunner(recipe, base, base / "run", workers=2, progress=False).run()
print(time.perf_counter() - t)
"""
DATASKETCH_CHILD = """
import sys, time, json, resource
import polars as pl
from datasketch import MinHash, MinHashLSH
texts = pl.read_ndjson(sys.argv[1], n_rows=int(sys.argv[2]))["text"]
from curate.dedup.shingles import shingle_text
t = time.perf_counter()
lsh = MinHashLSH(threshold=0.8, num_perm=128)
for i, text in enumerate(shingle_text(texts).to_list()):
    w = text.split(" ")
    m = MinHash(num_perm=128, seed=1)
    m.update_batch([" ".join(g).encode() for g in zip(w, w[1:], w[2:], w[3:], w[4:])] or [text.encode()])
    if not lsh.query(m):
        lsh.insert(i, m)
print(json.dumps({"s": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


TIGHT_SHAPE = (9, 11)  # a precision-leaning LSH shape for runs without verify (99 of 128 permutations)


def accuracy_corpus(limit: int) -> list[str]:
    licences = [t[:6000] for _, t in list(package_files("licenses")) + list(debian_docs("licenses"))]
    other = [t for _, t in python_docs()]
    rng = random.Random(0)
    docs = rng.sample(licences, min(len(licences), limit * 2 // 3)) + rng.sample(other, min(len(other), limit // 3))
    return [d for d in docs if len(d.split()) >= 10]


def accuracy(texts: list[str], threshold: float = 0.8, shape: tuple[int, int] | None = None) -> dict[str, float]:
    sets = [set(shingles(t)) for t in texts]  # reference shingles: byte strings, no hashing
    truth = {(a, b) for a, b in itertools.combinations(range(len(texts)), 2) if len(sets[a] & sets[b]) >= threshold * len(sets[a] | sets[b]) > 0}
    bands, rows = shape or MinhashDedupParams(threshold=threshold).band_shape()  # default: the stage's LSH shape
    keys = band_hashes(signatures(pl.Series(texts)), bands, rows)
    buckets: dict[tuple[int, int], list[int]] = {}
    for i in range(len(texts)):
        for b in range(bands):
            buckets.setdefault((b, int(keys[i, b])), []).append(i)
    found = sorted({p for members in buckets.values() for p in itertools.combinations(members, 2)})
    values, offsets = shingle_sets(pl.Series(texts))
    sims = jaccard_pairs(values, offsets, np.array(found, dtype=np.int64).reshape(-1, 2))
    verified = {p for p, s in zip(found, sims, strict=True) if s >= threshold}
    hits = len(truth & set(found))
    return {"true_pairs": len(truth), "candidate_pairs": len(found), "bands": bands, "rows": rows,
            "recall": hits / len(truth), "precision": hits / len(found) if found else 1.0,
            "precision_verified": len(verified & truth) / len(verified) if verified else 1.0,
            "recall_verified": len(verified & truth) / len(truth)}


def speed_corpus(n: int) -> list[str]:
    words = " ".join(t for _, t in python_docs()).split()
    rng = random.Random(1)
    return [" ".join(words[(s := rng.randrange(len(words) - 600)) : s + 480]) for _ in range(n)]


def ours_docs_per_s(texts: list[str], hash_name: str) -> float:
    signatures(pl.Series(texts[:20]), hash_name=hash_name)  # compile / load the numba cache
    t = time.perf_counter()
    signatures(pl.Series(texts), hash_name=hash_name)
    return len(texts) / (time.perf_counter() - t)


def datasketch_docs_per_s(norm: list[str], batch: bool) -> float:
    from datasketch import MinHash

    t = time.perf_counter()
    for text in norm:
        w = text.split(" ")
        m = MinHash(num_perm=128, seed=1)
        grams = [" ".join(g).encode() for g in zip(w, w[1:], w[2:], w[3:], w[4:])]
        if batch:
            m.update_batch(grams)
        else:
            for g in grams:
                m.update(g)
    return len(norm) / (time.perf_counter() - t)


def rensa_docs_per_s(norm: list[str]) -> float | None:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if subprocess.run([str(python), "-c", "import rensa"], capture_output=True).returncode:
        if subprocess.run([str(python), "-m", "pip", "install", "-q", "rensa"], capture_output=True).returncode:
            return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(norm, f)
    out = subprocess.run([str(python), "-c", RENSA_SCRIPT, f.name], capture_output=True, text=True)
    return float(out.stdout.strip()) if out.returncode == 0 else None


def mutated_docs(path: Path, n: int, seed: int = 0) -> None:
    """``n`` documents of ~90 words cut from real text; 20% are near-copies of an earlier document."""
    sources = dict.fromkeys(t for _, t in list(python_docs()) + list(package_files("licenses")))  # distinct texts
    words = pl.Series(" ".join(sources).split())
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        for lo in range(0, n, 100_000):
            k = min(100_000, n - lo)
            idx = rng.integers(0, len(words) - 100, k)[:, None] + np.arange(90)
            copy = rng.random(k) < 0.2
            idx[copy] = idx[rng.integers(0, np.arange(k) + 1)[copy]]
            flat = words.gather(idx.ravel())
            flat = pl.select(pl.when(pl.Series(((rng.random(idx.shape) < 0.01) & copy[:, None]).ravel()))
                             .then(pl.lit("edited")).otherwise(flat)).to_series()
            texts = flat.reshape((k, 90)).arr.join(" ")
            pl.DataFrame({"id": pl.int_range(lo, lo + k, eager=True).cast(pl.String).str.pad_start(7, "0"), "text": texts}).write_ndjson(f)


def run_tree(cmd: list[str]) -> tuple[str, float]:
    """Run cmd; (stdout, peak MB of the summed RSS of it and its children, sampled every 0.2 s)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    root, peak = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.2)
    return proc.stdout.read() if proc.stdout else "", peak


def end_to_end(n: int, ds_docs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        mutated_docs(Path(tmp) / "docs.jsonl", n)
        out, peak = run_tree([sys.executable, "-c", E2E_CHILD, tmp])
        ds, _ = run_tree([sys.executable, "-c", DATASKETCH_CHILD, str(Path(tmp) / "docs.jsonl"), str(ds_docs)])
    ds_res = json.loads(ds.strip().splitlines()[-1])
    return {"e2e_s": float(out.strip().splitlines()[-1]), "e2e_peak_rss_mb": peak,
            "ds_docs": ds_docs, "ds_s": ds_res["s"], "ds_rss_mb": ds_res["rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs and no rensa (it needs its own venv): seconds")
    parser.add_argument("--docs", type=int, default=None, help="end-to-end documents (default 20k quick, 1M full)")
    parser.add_argument("--ds-docs", type=int, default=None, help="documents given to datasketch MinHashLSH (default min(docs, 100k))")
    args = parser.parse_args()
    n_acc, n_speed, n_update, n_batch, n_e2e = ((60, 60, 20, 20, 300) if args.smoke else (600, 2000, 150, 300, 20_000) if args.quick
                                                else (1500, 10000, 1000, 2000, 1_000_000))
    n_e2e = args.docs or n_e2e
    acc_texts = accuracy_corpus(n_acc)
    acc = accuracy(acc_texts)
    tight = accuracy(acc_texts, shape=TIGHT_SHAPE)
    texts = speed_corpus(n_speed)
    norm = shingle_text(pl.Series(texts)).to_list()  # peers get normalized text: the same shingles
    ours, ours_sha1 = ours_docs_per_s(texts, "words64"), ours_docs_per_s(texts, "sha1")
    ds_update = datasketch_docs_per_s(norm[:n_update], batch=False)
    ds_batch = datasketch_docs_per_s(norm[:n_batch], batch=True)
    rensa = None if args.smoke else rensa_docs_per_s(norm)
    if rensa is None:
        print("rensa: no figure (" + ("--smoke skips peers in their own venv" if args.smoke else f"its venv {PEERS} could not be built") + ")")
    e2e = end_to_end(n_e2e, args.ds_docs or min(n_e2e, 100_000))
    print(f"accuracy at Jaccard 0.8 ({acc['bands']} bands x {acc['rows']} rows): {acc['true_pairs']} true pairs, {acc['candidate_pairs']} LSH candidates")
    print(f"  LSH only: recall {acc['recall']:.3f} precision {acc['precision']:.3f} | verify: recall {acc['recall_verified']:.3f} precision {acc['precision_verified']:.3f}")
    print(f"  LSH only with bands: {TIGHT_SHAPE[0]}, rows: {TIGHT_SHAPE[1]} (for verify: false): recall {tight['recall']:.3f} precision {tight['precision']:.3f}")
    print(f"signature speed, 1 core, {len(texts)} docs of ~{np.mean([len(t) for t in texts]):.0f} bytes (docs/s, ours / peer):")
    rows = [("mixlab words64", ours), ("mixlab sha1", ours_sha1), ("datasketch update", ds_update),
            ("datasketch update_batch", ds_batch), ("rensa", rensa or float("nan"))]
    for name, v in rows:
        print(f"  {name:>24} {v:>10,.0f}  {ours / v:6.2f}x")
    ds_rate = e2e["ds_docs"] / e2e["ds_s"]
    print(f"end to end, {n_e2e:,} docs, 2 workers: {e2e['e2e_s']:.1f} s ({n_e2e / e2e['e2e_s']:,.0f} docs/s), peak RSS {e2e['e2e_peak_rss_mb']:,.0f} MB")
    print(f"  datasketch MinHashLSH in memory, {e2e['ds_docs']:,} docs: {e2e['ds_s']:.1f} s ({ds_rate:,.0f} docs/s), RSS {e2e['ds_rss_mb']:,.0f} MB")
    print(json.dumps({
        "recall": round(acc["recall"], 4), "precision": round(acc["precision"], 4),
        "recall_lsh_9x11": round(tight["recall"], 4), "precision_lsh_9x11": round(tight["precision"], 4),
        "recall_verified": round(acc["recall_verified"], 4), "precision_verified": round(acc["precision_verified"], 4),
        "sig_speedup_vs_datasketch": round(ours / ds_update, 2), "sig_speedup_vs_datasketch_batch": round(ours / ds_batch, 2),
        "sha1_speedup_vs_datasketch": round(ours_sha1 / ds_update, 2),
        "sig_speedup_vs_rensa": round(ours / rensa, 2) if rensa else None, "ours_docs_per_s": round(ours),
        "docs": n_e2e, "e2e_s": round(e2e["e2e_s"], 1), "peak_rss_mb": round(e2e["e2e_peak_rss_mb"]),
        "datasketch_lsh_docs": e2e["ds_docs"], "datasketch_lsh_s": round(e2e["ds_s"], 1), "datasketch_lsh_rss_mb": round(e2e["ds_rss_mb"]),
    }))


if __name__ == "__main__":
    main()
