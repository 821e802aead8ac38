"""MinHash dedup: accuracy against brute-force Jaccard, and signature speed vs datasketch and rensa.

Accuracy corpus: licence and copyright files found on this machine (natural near-duplicates) plus
unrelated documents (Python doc topics); truth = every pair whose exact Jaccard of word 5-gram
shingle sets is >= 0.8. Predicted pairs = pairs sharing an LSH bucket (what the stage clusters), and
the same after `verify` (true Jaccard of each candidate).

Speed: ~3 kB documents cut from Python's doc topics, 1 core (NUMBA_NUM_THREADS=1), end to end from raw
text to signature with the same shingles for all: ours (normalize + shingle + hash + permute in one
numba kernel), datasketch (`MinHash.update_batch` of the shingles after Python shingling) and rensa (a Rust
MinHash, installed in its own venv under /work/peers, fed the fastest Python shingling we could write).

    python tests/benchmarks/bench_dedup.py --quick
Last line: JSON with recall, precision, precision_verified, sig_speedup_vs_datasketch, sig_speedup_vs_rensa, docs, peak_rss_mb.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from curate.demo_corpus import debian_docs, package_files, python_docs  # noqa: E402
from curate.lsh import band_hashes  # noqa: E402
from curate.minhash import pack, shingle_hashes, shingle_text, signatures  # noqa: E402
from curate.stages.minhash_dedup import MinhashDedupParams  # noqa: E402

PEERS = Path("/work/peers/rensa-venv")
RENSA_SCRIPT = """
import sys, time, json
from rensa import RMinHash
texts = json.load(open(sys.argv[1]))
t = time.perf_counter()
for text in texts:
    w = text.split()
    m = RMinHash(num_perm=128, seed=1)
    m.update([" ".join(w[i:i + 5]) for i in range(max(len(w) - 4, 1))])
    m.digest()
print(len(texts) / (time.perf_counter() - t))
"""


def accuracy_corpus(limit: int) -> list[str]:
    licences = [t[:6000] for _, t in list(package_files("licenses")) + list(debian_docs("licenses"))]
    other = [t for _, t in python_docs()]
    rng = random.Random(0)
    docs = rng.sample(licences, min(len(licences), limit * 2 // 3)) + rng.sample(other, min(len(other), limit // 3))
    return [d for d in docs if len(d.split()) >= 10]


def accuracy(texts: list[str], threshold: float = 0.8) -> dict[str, float]:
    buf, off = pack(shingle_text(pl.Series(texts)))
    sets = [set(shingle_hashes(buf, off[i], off[i + 1], 5, False).tolist()) for i in range(len(texts))]
    truth = {(a, b) for a, b in itertools.combinations(range(len(texts)), 2) if len(sets[a] & sets[b]) >= threshold * len(sets[a] | sets[b]) > 0}
    bands, rows = MinhashDedupParams().band_shape()  # the stage's default LSH shape
    keys = band_hashes(signatures(pl.Series(texts)), bands, rows)
    buckets: dict[tuple[int, int], list[int]] = {}
    for i in range(len(texts)):
        for b in range(bands):
            buckets.setdefault((b, int(keys[i, b])), []).append(i)
    found = {p for members in buckets.values() for p in itertools.combinations(members, 2)}
    verified = {(a, b) for a, b in found if len(sets[a] & sets[b]) >= threshold * len(sets[a] | sets[b])}
    return {"true_pairs": len(truth), "candidate_pairs": len(found),
            "recall": len(found & truth) / len(truth) if truth else 1.0,
            "precision": len(found & truth) / len(found) if found else 1.0,
            "precision_verified": len(verified & truth) / len(verified) if verified else 1.0,
            "recall_verified": len(verified & truth) / len(truth) if truth else 1.0}


def speed_corpus(n: int) -> list[str]:
    words = " ".join(t for _, t in python_docs()).split()
    rng = random.Random(1)
    return [" ".join(words[(s := rng.randrange(len(words) - 600)) : s + 480]) for _ in range(n)]


def ours_docs_per_s(texts: list[str]) -> float:
    signatures(pl.Series(texts[:20]))  # compile
    t = time.perf_counter()
    signatures(pl.Series(texts))
    return len(texts) / (time.perf_counter() - t)


def datasketch_docs_per_s(texts: list[str]) -> float:
    from datasketch import MinHash

    norm = shingle_text(pl.Series(texts)).to_list()  # same normalization: the same shingles
    t = time.perf_counter()
    for text in norm:
        w = text.split(" ")
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([" ".join(w[i : i + 5]).encode() for i in range(max(len(w) - 4, 1))])
    return len(texts) / (time.perf_counter() - t)


def rensa_docs_per_s(texts: list[str]) -> float | None:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        if subprocess.run([str(python), "-m", "pip", "install", "-q", "rensa"], capture_output=True).returncode:
            return None
    norm = shingle_text(pl.Series(texts)).to_list()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(norm, f)
    out = subprocess.run([str(python), "-c", RENSA_SCRIPT, f.name], capture_output=True, text=True)
    return float(out.stdout.strip()) if out.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    acc = accuracy(accuracy_corpus(600 if args.quick else 2000))
    texts = speed_corpus(3000 if args.quick else 20000)
    ours, theirs = ours_docs_per_s(texts), datasketch_docs_per_s(texts[: 300 if args.quick else 2000])
    rensa = rensa_docs_per_s(texts)
    print(f"accuracy at Jaccard 0.8: {acc['true_pairs']} true pairs, {acc['candidate_pairs']} LSH candidate pairs")
    print(f"  recall {acc['recall']:.3f}  precision {acc['precision']:.3f}  precision with verify {acc['precision_verified']:.3f}")
    print(f"signature speed, 1 core, {len(texts)} docs of ~{np.mean([len(t) for t in texts]):.0f} bytes (docs/s):")
    print(f"  {'mixlab':>12} {ours:>10,.0f}  1.00x")
    print(f"  {'datasketch':>12} {theirs:>10,.0f}  {theirs / ours:.2f}x")
    print(f"  {'rensa':>12} {rensa or float('nan'):>10,.0f}  {(rensa or float('nan')) / ours:.2f}x")
    print(json.dumps({
        "recall": round(acc["recall"], 4), "precision": round(acc["precision"], 4),
        "precision_verified": round(acc["precision_verified"], 4), "recall_verified": round(acc["recall_verified"], 4),
        "sig_speedup_vs_datasketch": round(ours / theirs, 2),
        "sig_speedup_vs_rensa": round(ours / rensa, 2) if rensa else None, "docs": len(texts),
        "ours_docs_per_s": round(ours), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
