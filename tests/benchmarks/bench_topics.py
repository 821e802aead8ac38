"""Benchmark: topic recovery on real text, assignment throughput, diversity metric cost; peers side by side.

Corpus: real text read at run time from this machine (Python's pydoc topics, installed packages'
READMEs/METADATA, licence files, Debian changelogs, English man pages; see curate/demo/corpus.py), one
source per domain. Reports NMI(topic, source), ARI between two seeds' topic models, assignment docs/s,
and the time of each metric on a 100k-document scope (10k with --quick). Scale: ``curate run`` of the
topics and diversity stages on 1M documents recombined from real paragraphs (10k with --quick), two
workers, wall time per step and peak RSS of the whole process tree. Peers, in their own venv
(/work/peers/diversity-venv): vendi-score (Vendi on the same kernel matrix), lexicalrichness (MATTR),
Shaib et al.'s ``diversity`` (compression ratio). Last stdout line: one JSON object.

    .venv/bin/python tests/benchmarks/bench_topics.py --quick
    .venv/bin/python tests/benchmarks/bench_topics.py --smoke   # tiny inputs, no peers: seconds (the test suite's check)
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script from any folder

from curate.demo import corpus as dc  # noqa: E402
from curate.diversity import fast  # noqa: E402
from curate.diversity import metrics as m  # noqa: E402
from curate.models.topics import assign, fit_topics  # noqa: E402
from scale_corpus import peak_rss, synthetic_jsonl  # noqa: E402

PEER_VENV = Path("/work/peers/diversity-venv")
PEERS = ["vendi-score", "lexicalrichness", "diversity"]


def real_corpus(per_domain: int, seed: int) -> tuple[list[str], list[str]]:
    """Texts and their domain, ``per_domain`` documents of at least 200 characters from each domain."""
    man = dc.man_pages().get("en", [])
    domains = {"python_docs": dc.python_docs(), "package_docs": dc.package_files("docs"),
               "licenses": iter([*dc.package_files("licenses"), *dc.debian_docs("licenses")]),
               "changelogs": dc.debian_docs("changelogs"),
               "man_en": dc._man_docs(sorted(random.Random(seed).sample(man, min(len(man), per_domain * 2))))}
    texts, labels = [], []
    for name, docs in domains.items():
        rows = [t for _, t in docs if len(t.strip()) >= 200]
        for text in random.Random(f"{seed}:{name}").sample(rows, min(len(rows), per_domain)):
            texts.append(text)
            labels.append(name)
    return texts, labels


def topic_quality(texts: list[str], labels: list[str]) -> dict:
    k = len(set(labels))
    ids = [str(i) for i in range(len(texts))]
    t0 = time.perf_counter()
    a = fit_topics(texts, ids, k=k, seed=0)
    fit_s = time.perf_counter() - t0
    b = fit_topics(texts, ids, k=k, seed=1)
    ta, tb = assign(a, texts)[0], assign(b, texts)[0]
    chosen = fit_topics(texts, ids, k=None, k_range=(3, 10), seed=0)
    tc = assign(chosen, texts)[0]
    return {"n_docs": len(texts), "k": k, "nmi": normalized_mutual_info_score(labels, ta),
            "ari_between_seeds": adjusted_rand_score(ta, tb), "nmi_seed1": normalized_mutual_info_score(labels, tb),
            "k_chosen": chosen.k, "nmi_k_chosen": normalized_mutual_info_score(labels, tc), "fit_seconds": fit_s,
            "model": a, "terms": [lab["terms"] for lab in a.labels]}


def timed(fn, *args):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def metric_costs(model, texts: list[str], n: int) -> dict:  # noqa: ANN001
    """Seconds of each metric on an n-document scope (texts drawn with replacement, first 4,000 chars)."""
    rng = np.random.default_rng(0)
    scope = [texts[i][:4000] for i in rng.integers(0, len(texts), n)]
    emb, embed_s = timed(model.embed, scope)
    one = [np.ones(n)]
    tokens, tok_s = timed(fast.Tokens.of, scope)
    costs = {"assign_docs_per_s": n / embed_s, "tokenize": tok_s}
    _, costs["distinct_and_entropy_1_4"] = timed(lambda: [fast.gram_distinct_and_entropy(tokens, k, one) for k in (1, 2, 3, 4)])
    _, costs["mattr"] = timed(lambda: fast.weighted_mean(fast.mattr_per_doc(tokens), one))
    _, costs["compression_ratio"] = timed(m.compression_ratio, scope)
    _, costs["vendi"] = timed(m.vendi_score, emb)
    _, costs["mean_cosine_distance"] = timed(m.mean_pairwise_cosine_distance, emb)
    topics = model.assign_vectors(emb)[0]
    _, costs["topic_entropy"] = timed(lambda: fast.label_stats(topics, one))
    costs["embed"] = embed_s
    return costs


PEER_SCRIPT = r"""
import gzip, importlib.util, json, sys, time, numpy as np
from vendi_score import vendi
from lexicalrichness import LexicalRichness
spec = importlib.util.spec_from_file_location("shaib_compression", sys.argv[1])
shaib = importlib.util.module_from_spec(spec); spec.loader.exec_module(shaib)
data = json.load(open(sys.argv[2])); K = np.load(sys.argv[3]); out = {}
t = time.perf_counter(); out["vendi"] = float(vendi.score_K(K)); out["vendi_s"] = time.perf_counter() - t
t = time.perf_counter(); rich = [LexicalRichness(x) for x in data]; keep = [i for i, r in enumerate(rich) if r.words >= 100]
out["mattr"] = float(np.mean([rich[i].mattr(100) for i in keep])); out["mattr_s"] = time.perf_counter() - t; out["mattr_docs"] = keep
t = time.perf_counter(); out["compression"] = shaib.compression_ratio(data); out["compression_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def ensure_peers() -> Path | None:
    """The peers' venv (created on first use); None when it cannot be built."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "vendi-score", "lexicalrichness"], check=False)
        # Shaib et al.'s package imports sentence-transformers at import time: only its compression module is used
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "diversity"], check=False)
    found = list(PEER_VENV.glob("lib/python3*/site-packages/diversity/compression.py"))
    return found[0] if found else None


def peer_comparison(model, texts: list[str], n: int, tmp: Path) -> list[tuple]:  # noqa: ANN001
    """(metric, ours, peer, our seconds, peer seconds) on the same n documents / kernel matrix."""
    compression = ensure_peers()
    if compression is None:
        return []
    scope = [t[:4000] for t in texts[:n]]
    x = m.unit_rows(model.embed(scope))
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "texts.json").write_text(json.dumps(scope))
    np.save(tmp / "kernel.npy", x @ x.T)
    run = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c", PEER_SCRIPT, str(compression), str(tmp / "texts.json"),
                          str(tmp / "kernel.npy")], capture_output=True, text=True)
    if run.returncode:
        print(run.stderr[-2000:], file=sys.stderr)
        return []
    peer = json.loads(run.stdout.strip().splitlines()[-1])
    vendi_ours, vendi_s = timed(m.vendi_score, x)
    long_docs = [scope[i] for i in peer["mattr_docs"]]  # documents of >= 100 words for lexicalrichness
    mattr_ours, mattr_s = timed(lambda: fast.weighted_mean(fast.mattr_per_doc(fast.Tokens.of(long_docs)), [np.ones(len(long_docs))])[0])
    comp_ours, comp_s = timed(m.compression_ratio, scope)
    return [("vendi (q=1)", vendi_ours, peer["vendi"], vendi_s, peer["vendi_s"], "vendi-score score_K, same kernel"),
            ("mattr (w=100)", mattr_ours, peer["mattr"], mattr_s, peer["mattr_s"], "lexicalrichness (own tokenizer)"),
            ("compression_ratio", comp_ours, peer["compression"], comp_s, peer["compression_s"], "diversity (Shaib), ' '-joined")]


def scale_part(work: Path, n_docs: int, source_docs: int = 300) -> dict:
    """Ingest n_docs documents (recombined from about ``source_docs`` real documents per domain), then topics
    (fit on a 20k sample, assign in the pool) and diversity (corpus/source/topic scopes) through ``curate run``
    with 2 workers; seconds and peak RSS (MB)."""
    dc.build_demo_corpus(work / "para-src", source_docs * 6000, seed=2)
    synthetic_jsonl(work / "big", work / "para-src", n_docs, seed=3)
    ingest = {"name": "big", "inputs": [{"path": "big/*.jsonl", "id_field": "id", "source": "{file}"}]}
    stages = [{"stage": "topics", "k": 12, "sample_size": 20_000}, {"stage": "diversity", "sample_size": 1000, "n_boot": 20}]
    curate = [str(Path(sys.executable).parent / "curate"), "run"]
    result = {}
    for step, recipe in (("ingest", ingest), ("topics_and_diversity", ingest | {"stages": stages})):
        (work / f"{step}.yaml").write_text(json.dumps(recipe))
        seconds, rss, _ = peak_rss([*curate, str(work / f"{step}.yaml"), "--out", str(work / "run"), "--workers", "2", "--no-progress"])
        result[step] = (seconds, rss)
    seconds, rss = result["topics_and_diversity"]
    print(f"\nscale: {n_docs:,} documents, 2 workers: ingest {result['ingest'][0]:.1f} s (peak RSS {result['ingest'][1]:.0f} MB); "
          f"topics (fit on 20k, assign all) + diversity {seconds:.1f} s = {n_docs / seconds:,.0f} docs/s, peak RSS {rss:.0f} MB")
    return {"scale_docs": n_docs, "scale_topics_diversity_s": round(seconds, 1), "scale_docs_per_s": round(n_docs / seconds),
            "scale_peak_rss_mb": round(rss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200 documents per domain, 10k-document metric scope")
    ap.add_argument("--smoke", action="store_true", help="8 documents per domain, 200-document scope and scale run, no peers")
    ap.add_argument("--no-peers", action="store_true", help="skip the peers (they need their own venv, built from PyPI)")
    ap.add_argument("--per-domain", type=int, default=None)
    ap.add_argument("--scope-docs", type=int, default=None)
    ap.add_argument("--scale-docs", type=int, default=None, help="documents in the curate-run scale test (default 1M, 10k with --quick)")
    args = ap.parse_args()
    size = (8, 200, 200) if args.smoke else (200, 10_000, 10_000) if args.quick else (1500, 100_000, 1_000_000)
    per_domain, scope_docs, scale_docs = args.per_domain or size[0], args.scope_docs or size[1], args.scale_docs or size[2]
    texts, labels = real_corpus(per_domain, seed=0)
    q = topic_quality(texts, labels)
    print(f"corpus: {q['n_docs']} real documents, {q['k']} sources; topic fit on all of them took {q['fit_seconds']:.1f} s")
    print(f"NMI(topic, source) seed 0: {q['nmi']:.3f}  seed 1: {q['nmi_seed1']:.3f}  ARI(seed 0, seed 1): {q['ari_between_seeds']:.3f}")
    print(f"k by silhouette over 3..10: {q['k_chosen']} (NMI {q['nmi_k_chosen']:.3f})")
    for t, terms in enumerate(q["terms"]):
        print(f"  topic {t}: {terms}")
    costs = metric_costs(q["model"], texts, scope_docs)
    print(f"\nmetric cost on a {scope_docs:,}-document scope (one pass, no bootstrap, 1 core):")
    for name, value in costs.items():
        print(f"  {name:28s} {value:10.2f}" + (" docs/s" if name.endswith("per_s") else " s"))
    if args.smoke or args.no_peers:
        rows = []
        print("\npeers: no figures (skipped by " + ("--smoke" if args.smoke else "--no-peers") + f"; they need {PEER_VENV})")
    else:
        rows = peer_comparison(q["model"], texts, min(2000, len(texts)), Path("/tmp/mixlab-bench-topics"))
    if rows:
        print(f"\n{'metric':20s} {'mixlab':>10s} {'peer':>10s} {'speedup':>8s}  peer")
    for name, ours, peer, ours_s, peer_s, who in rows:
        print(f"{name:20s} {ours:10.4f} {peer:10.4f} {peer_s / max(ours_s, 1e-9):7.1f}x  {who}")
    with tempfile.TemporaryDirectory(prefix="mixlab-bench-topics-scale-") as tmp:
        at_scale = scale_part(Path(tmp), scale_docs, 20 if args.smoke else 300)
    scale = scope_docs / 100_000
    print(json.dumps(at_scale | {"nmi": round(q["nmi"], 4), "ari_between_seeds": round(q["ari_between_seeds"], 4),
                      "assign_docs_per_s": round(costs["assign_docs_per_s"], 1),
                      "vendi_seconds_100k": round(costs["vendi"] / scale, 4), "k_chosen": q["k_chosen"],
                      "nmi_k_chosen": round(q["nmi_k_chosen"], 4), "n_docs": q["n_docs"], "scope_docs": scope_docs,
                      "metric_seconds": {k: round(v, 3) for k, v in costs.items() if k != "assign_docs_per_s"},
                      "peers": {r[0]: {"mixlab": r[1], "peer": r[2], "speedup": round(r[4] / max(r[3], 1e-9), 2)} for r in rows} or None}))


if __name__ == "__main__":
    main()
