"""line_dedup at scale: boilerplate removal and speed against an in-memory CCNet-style program.

Data (generated, :mod:`tests.rewrite_planted`): pages of unique body lines with eight boilerplate lines
(cookie banner, menu, newsletter, footer with a varying year, ...) each planted in ~60% of the pages.
The web recipe's figures (boilerplate and PII removal through extraction and the whole recipe, PII speed
against datatrove) are ``tests/benchmarks/bench_web.py``'s; this one measures the line_dedup stage alone
on more pages, as plain text (no HTML).

- ``boilerplate_lines_removed_frac``: planted boilerplate lines gone from the rewritten text (a real
  ``curate run`` with ``line_dedup``, ``max_docs: 10``); ``body_lines_removed_frac``: unique lines lost.
- line-dedup speed: the stage's wall time in the run (hash pass, DuckDB count, rewrite pass; ``--workers``,
  default 1) against a CCNet-style in-memory baseline in one Python process (the same normalization
  with ``re``, a ``Counter`` of per-document distinct line hashes, then a filtering pass): no peer
  library ships cross-document line dedup on its own (datatrove's ``SentenceDedup`` is a 3-sentence
  span pipeline), so the baseline is the simplest correct program; ours also writes Parquet and spills.

    python tests/benchmarks/bench_line_dedup.py --quick      # < 3 min on 2 shared cores
    python tests/benchmarks/bench_line_dedup.py --smoke      # seconds: the test suite's check that it still runs
Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from curate.core.catalog import Catalog  # noqa: E402
from curate.pipeline.recipe import parse_recipe  # noqa: E402
from curate.pipeline.runner import RecipeRunner  # noqa: E402
from tests.conftest import write_jsonl  # noqa: E402
from tests.rewrite_planted import Page, boilerplate_pages, boilerplate_scores  # noqa: E402

MAX_DOCS = 10


def line_dedup_run(pages: list[Page], work: Path, workers: int) -> tuple[dict[str, str], float]:
    """Rewritten text per page and the line_dedup stage's wall seconds, from a real run."""
    write_jsonl(work / "pages.jsonl", [{"id": p.doc_id, "text": p.text} for p in pages])
    recipe = parse_recipe({"name": "bench-line-dedup", "inputs": [{"path": "pages.jsonl", "id_field": "id"}],
                           "ingest": {"shard_docs": 2000}, "stages": [{"stage": "line_dedup", "max_docs": MAX_DOCS}]})
    run = RecipeRunner(recipe, work, work / "run", workers=workers, progress=False).run()
    with Catalog(run.run_dir, read_only=True) as cat:
        texts = dict(cat.query("SELECT source_id, text FROM documents").iter_rows())
        wall = cat.query("SELECT wall_s FROM stages WHERE stage = 'line_dedup'")["wall_s"][0]
    return texts, float(wall)


_PUNCT, _DIGIT, _SPACE = re.compile(r"[^\w\s]"), re.compile(r"\d"), re.compile(r"\s+")


def inmemory_baseline(texts: list[str]) -> tuple[list[str], float]:
    """CCNet-style line dedup in one process: normalize, count per-document distinct hashes, filter."""
    start = time.perf_counter()

    def key(line: str) -> int:
        return hash(_SPACE.sub(" ", _DIGIT.sub("", _PUNCT.sub("", line.lower()))).strip())

    split = [t.splitlines(keepends=True) for t in texts]
    keys = [[key(line) for line in lines] for lines in split]
    counts = Counter(k for ks in keys for k in set(ks))
    out = ["".join(line for line, k in zip(lines, ks, strict=True) if counts[k] <= MAX_DOCS) for lines, ks in zip(split, keys, strict=True)]
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 pages (default 50,000)")
    parser.add_argument("--smoke", action="store_true", help="300 pages: the same code path in seconds (the test suite's check)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    n = 300 if args.smoke else 10_000 if args.quick else 50_000
    result: dict[str, object] = {"pages": n, "workers": args.workers}
    with tempfile.TemporaryDirectory(prefix="bench-line-dedup-") as tmp:
        work = Path(tmp)
        pages = boilerplate_pages(n, seed=1)
        rewritten, stage_s = line_dedup_run(pages, work, args.workers)
        result |= boilerplate_scores(pages, rewritten)
        base_out, base_s = inmemory_baseline([p.text for p in pages])
        base_scores = boilerplate_scores(pages, {p.doc_id: t for p, t in zip(pages, base_out, strict=True)})
        result |= {"line_dedup_docs_per_s": round(n / stage_s), "inmemory_baseline_docs_per_s": round(n / base_s),
                   "line_dedup_ratio_vs_inmemory": round(base_s / stage_s, 3),
                   "inmemory_baseline_boilerplate_removed_frac": base_scores["boilerplate_lines_removed_frac"]}

    for key, value in result.items():
        print(f"{key:>44}: {value}", file=sys.stderr)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
