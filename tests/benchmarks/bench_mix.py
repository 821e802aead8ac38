"""Benchmark `curate mix`: entropy control, zero contamination, budget accuracy, and emitting at scale.

Real text read from this machine (:mod:`curate.demo.corpus`: Python docs, package READMEs, licences,
changelogs, man pages), never committed.

1. Sweep: a curated run (topics stage) with planted near-duplicates (2 words changed) and case/punctuation
   variants of a third of the documents; an eval split (5 per source, one source held out); a sweep of 8
   mixtures at one budget targeting increasing topic entropy. Reported: Spearman(target, measured
   token-weighted topic entropy), the worst budget error, and contamination = mixture documents that a
   brute-force exact-Jaccard scan finds ≥ 0.8 similar to (or normalized-equal with) an eval document.
   Peer: datasketch ``MinHashLSH`` (threshold 0.8, 128 perms) finding the same eval duplicates, compared
   on recall against brute force and on time.
2. Scale: N generated documents (recombined real paragraphs, ~1 kB each) ingested with `curate run`,
   then one mixture of B bytes emitted by the CLI in a subprocess; wall time and peak RSS of its process
   tree (sampled every 50 ms). Full: 1M documents, 1 GB; --quick: 100k documents, 100 MB.

--smoke (the test suite's check that the script runs, seconds): 25 documents per domain (the corpus builder
keeps domains of 20 or more), a 3-mixture sweep, 300 documents recombined from the sweep's corpus.

Last stdout line: JSON with entropy_spearman, contamination, budget_error_pct, peak_rss_mb (+ details).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import polars as pl
from scipy.stats import spearmanr

from curate.core.catalog import Catalog
from curate.dedup.shingles import jaccard_pairs, shingle_sets
from curate.demo.corpus import build_demo_corpus
from curate.mix.eval_split import EvalSplitParams, reserve_eval
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from curate.text import normalize_expr
from scale_corpus import peak_rss, synthetic_jsonl

THRESHOLD = 0.8
DOC_BYTES = 6000  # build_demo_corpus caps bytes per domain: about this many per document
VENV = Path(sys.executable).parent


def plant_twins(raw: Path, share: float, seed: int) -> int:
    """Add near-duplicates (2 words changed) and case/punctuation variants of a share of the documents."""
    rng, twins = random.Random(seed), []
    for path in sorted(raw.glob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            doc = orjson.loads(line)
            if rng.random() < share and len(doc["text"].split()) > 40:
                words = doc["text"].split(" ")
                for _ in range(2):
                    words[rng.randrange(len(words))] = rng.choice(["the", "of", "and", "a"])
                twins += [{"id": f"near-{path.stem}-{doc['id']}", "text": " ".join(words)},
                          {"id": f"case-{path.stem}-{doc['id']}", "text": doc["text"].upper().replace(".", " !")}]
    (raw / "twins.jsonl.gz").write_bytes(gzip.compress(b"".join(orjson.dumps(t) + b"\n" for t in twins)))
    return len(twins)


def too_close(cat: Catalog, doc_ids: list[str]) -> set[tuple[str, str]]:
    """Brute force: (eval, doc) pairs with exact word-5-gram Jaccard ≥ 0.8 or equal normalized text."""
    evals = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM eval_sets) ORDER BY doc_id")
    others = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest($ids)) ORDER BY doc_id", {"ids": doc_ids})
    both = pl.concat([evals, others])
    values, offsets = shingle_sets(both["text"])
    grid = np.stack(np.meshgrid(np.arange(evals.height), evals.height + np.arange(others.height), indexing="ij"), -1).reshape(-1, 2)
    sims = jaccard_pairs(values, offsets, grid.astype(np.int64))
    norm = both.select(normalize_expr(pl.col("text")).hash())["text"].to_numpy()
    hit = (sims >= THRESHOLD) | (norm[grid[:, 0]] == norm[grid[:, 1]])
    ids = both["doc_id"].to_list()
    return {(ids[e], ids[o]) for e, o in grid[hit].tolist() if ids[e] != ids[o]}


def datasketch_peer(cat: Catalog) -> tuple[set[tuple[str, str]], float]:
    """Eval duplicates found by datasketch MinHashLSH (same shingles, 128 permutations), and seconds taken."""
    from datasketch import MinHash, MinHashLSH

    from curate.dedup.shingles import shingles

    started = time.perf_counter()
    evals = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM eval_sets)")
    pool = cat.query("SELECT doc_id, text FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)")
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)

    def sketch(text: str) -> MinHash:
        m = MinHash(num_perm=128)
        m.update_batch(shingles(text))
        return m

    for doc_id, text in evals.iter_rows():
        lsh.insert(doc_id, sketch(text))
    found = {(e, d) for d, t in pool.iter_rows() for e in lsh.query(sketch(t))}
    return found, time.perf_counter() - started


def sweep_part(work: Path, per_domain: int, steps: int = 8) -> dict:
    raw = work / "raw"
    build_demo_corpus(raw, per_domain * DOC_BYTES, seed=0)
    n_twins = plant_twins(raw, 0.33, seed=1)
    recipe = parse_recipe({"name": "bench-mix", "inputs": [{"path": "raw/*.jsonl.gz", "id_field": "id", "source": "{file}"}],
                           "stages": [{"stage": "topics", "k": 8, "sample_size": 4000}]})
    run = RecipeRunner(recipe, work, work / "run", workers=2, progress=False).run().run_dir
    with Catalog(run) as cat:
        sources = cat.query("SELECT source, count(*) AS n FROM kept_documents GROUP BY 1 ORDER BY n DESC")["source"].to_list()
        started = time.perf_counter()
        found = reserve_eval(cat, EvalSplitParams(group_by="source", per_group=5, ood_groups=(sources[-1],), seed=0, threshold=THRESHOLD))
        ours_s = time.perf_counter() - started
        truth = too_close(cat, cat.query("SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)")["doc_id"].to_list())
        peer, peer_s = datasketch_peer(cat)
        pool_tokens = int(cat.query("SELECT sum((n_bytes + 3) // 4)::BIGINT AS t FROM kept_documents")["t"][0])
        sweep = SweepSpec(name="bench-entropy", steps=steps, diversity_sample=200, n_boot=0,
                          base={"group_by": "topic_id", "token_budget": int(pool_tokens * 0.4), "max_repeats": 4})
        table = run_sweep(cat, sweep, workers=2)
        leaked = too_close(cat, cat.query("SELECT DISTINCT doc_id FROM mixture_docs")["doc_id"].to_list())
        report_rows = cat.report("contamination").height
    recorded = set(found.filter(pl.col("method") != "containment").select("eval_doc_id", "doc_id").iter_rows())  # what brute force checks
    n_inside = found.filter(pl.col("method") == "containment").height
    recall = lambda s: len(s & truth) / max(1, len(truth))  # noqa: E731
    print(f"\nplanted twins: {n_twins}; eval duplicates by brute force: {len(truth)}; eval passages inside longer documents"
          f" (containment, beyond the brute force's Jaccard): {n_inside}")
    print(f"{'decontamination':<28}{'recall':>8}{'precision':>11}{'seconds':>9}")
    for name, got, secs in (("mixlab (exact + LSH+verify)", recorded, ours_s), ("datasketch MinHashLSH", peer, peer_s)):
        print(f"{name:<28}{recall(got):>8.3f}{len(got & truth) / max(1, len(got)):>11.3f}{secs:>9.2f}")
    with pl.Config(tbl_cols=12, tbl_width_chars=200, tbl_rows=20):
        print(table.select("target_entropy", "topic_entropy_tokens", "topic_entropy", "effective_topics", "vendi",
                           "distinct_2", "n_docs", "n_tokens", "budget_error_pct"))
    rho = float(spearmanr(table["target_entropy"], table["topic_entropy_tokens"]).statistic)
    rho_docs = float(spearmanr(table["target_entropy"], table["topic_entropy"]).statistic)
    return {"entropy_spearman": rho, "entropy_spearman_doc_weighted_sample": rho_docs, "contamination": len(leaked) + report_rows,
            "budget_error_pct": float(table["budget_error_pct"].abs().max()), "decontam_recall": recall(recorded), "containment_pairs": n_inside,
            "datasketch_recall": recall(peer), "decontam_s": ours_s, "datasketch_s": peer_s,
            "sweep": table.select("target_entropy", "topic_entropy_tokens", "vendi", "budget_error_pct").to_dicts()}


def scale_part(work: Path, n_docs: int, mixture_bytes: int, sources: Path | None = None) -> dict:
    """n_docs documents recombined from the paragraphs of ``sources`` (default: a fresh corpus of about 300
    documents per domain) ingested by ``curate run``, then one mixture of mixture_bytes emitted by ``curate mix``."""
    if sources is None:
        sources = work / "para-src"
        build_demo_corpus(sources, 300 * DOC_BYTES, seed=2)
    text_bytes = synthetic_jsonl(work / "big", sources, n_docs, seed=3)
    (work / "big.yaml").write_text(json.dumps({"name": "big", "inputs": [{"path": "big/*.jsonl", "id_field": "id", "source": "{file}"}]}))
    ingest_s, ingest_rss, _ = peak_rss([str(VENV / "curate"), "run", str(work / "big.yaml"), "--out", str(work / "bigrun"),
                                        "--workers", "2", "--no-progress"])
    spec = work / "mix-big.yaml"
    spec.write_text(json.dumps({"name": "big", "group_by": "source", "token_budget": mixture_bytes // 4, "max_repeats": 2,
                                "shard_docs": 50_000}))
    emit_s, emit_rss, _ = peak_rss([str(VENV / "curate"), "mix", str(work / "bigrun"), str(spec), "--diversity-sample", "0",
                                    "--workers", "2"])
    folder = next((work / "bigrun" / "mixtures").glob("big-*"))
    manifest = json.loads((folder / "manifest.json").read_text())
    written = sum(p.stat().st_size for p in folder.glob("part-*.parquet"))
    print(f"\nscale: {n_docs:,} docs ({text_bytes / 1e9:.2f} GB text) ingested in {ingest_s:.1f} s (peak RSS {ingest_rss:.0f} MB)")
    print(f"emit {manifest['n_tokens'] * 4 / 1e9:.2f} GB of text ({manifest['n_rows']:,} rows, {written / 1e6:.0f} MB Parquet zstd)"
          f" in {emit_s:.1f} s, peak RSS {emit_rss:.0f} MB, budget error {manifest['budget_error_pct']:+.4f}%")
    return {"peak_rss_mb": round(emit_rss, 1), "emit_s": round(emit_s, 2), "emit_docs": n_docs, "emit_gb": round(manifest["n_tokens"] * 4 / 1e9, 3),
            "scale_budget_error_pct": manifest["budget_error_pct"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smaller corpus and a 100k-document / 100 MB scale run (< 3 min).")
    parser.add_argument("--smoke", action="store_true", help="Tiny inputs (seconds): the test suite's check that the script runs.")
    parser.add_argument("--work", type=Path, default=None, help="Work folder (default: a temporary one).")
    args = parser.parse_args()
    per_domain, steps, n_docs, mixture_bytes = ((25, 3, 300, 100_000) if args.smoke else (120, 8, 100_000, 100_000_000) if args.quick
                                                else (400, 8, 1_000_000, 1_000_000_000))
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
        work = args.work or Path(tmp)
        sweep = sweep_part(work / "sweep", per_domain, steps)  # --smoke recombines the sweep's corpus instead of building another
        result = sweep | scale_part(work / "scale", n_docs, mixture_bytes, work / "sweep" / "raw" if args.smoke else None)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
