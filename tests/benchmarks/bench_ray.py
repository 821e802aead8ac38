"""Ray executor vs the local process pool: wall time for 1 and 2 workers, and catalog identity.

Runs the demo recipe's stages on a generated multi-domain corpus (tests/corpus.py) with both executors
and compares every table and view of the two catalogs (timings and paths excluded).

    python tests/benchmarks/bench_ray.py --quick     # 2,000 docs, < 3 minutes
    python tests/benchmarks/bench_ray.py --docs 50000
    python tests/benchmarks/bench_ray.py --smoke     # 150 docs: the test suite's check that the script runs

Last line: JSON with identical (1 when all catalogs match), ray_wall_s, local_wall_s (2 workers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import orjson
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from curate.pipeline.recipe import parse_recipe  # noqa: E402
from curate.pipeline.runner import RecipeRunner  # noqa: E402
from tests.corpus import make_corpus, to_records  # noqa: E402
from tests.snapshot import catalog_snapshot  # noqa: E402


def recipe_for(data_glob: str, shard_docs: int) -> dict:
    recipe = yaml.safe_load((resources.files("curate") / "recipes" / "demo.yaml").read_text())
    recipe["inputs"] = [{"path": data_glob, "id_field": "id", "source": "{file}"}]
    recipe["ingest"] = {**recipe.get("ingest", {}), "shard_docs": shard_docs}
    return recipe


def timed_run(recipe: dict, base: Path, out: Path, workers: int, executor: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    RecipeRunner(parse_recipe(recipe), base, out, workers=workers, progress=False, executor=executor).run()
    if executor == "ray":
        import ray

        ray.shutdown()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="150 documents")
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    n_docs = 150 if args.smoke else 2_000 if args.quick else args.docs
    work = Path(tempfile.mkdtemp(prefix="mixlab-bench-ray-"))
    docs = make_corpus(n_docs, seed=11)
    for domain in sorted({d.domain for d in docs}):
        lines = b"".join(orjson.dumps(r) + b"\n" for r in to_records([d for d in docs if d.domain == domain]))
        (work / "data").mkdir(exist_ok=True)
        (work / "data" / f"{domain}.jsonl").write_bytes(lines)
    recipe = recipe_for("data/*.jsonl", max(50, n_docs // 40))
    walls, snaps = {}, {}
    for executor in ("local", "ray"):
        for workers in (1, 2):
            out = work / f"{executor}-{workers}"
            walls[(executor, workers)] = timed_run(recipe, work, out, workers, executor)
            snaps[(executor, workers)] = catalog_snapshot(out)
    ref = snaps[("local", 1)]
    differing = {f"{e}-{w}": sorted(k for k in set(ref) | set(s) if k not in s or k not in ref or not s[k].equals(ref[k]))
                 for (e, w), s in snaps.items()}
    identical = not any(differing.values())
    print(f"{n_docs:,} documents, stages: {[s['stage'] for s in recipe['stages']]}")
    print(f"{'executor':>9} {'workers':>8} {'wall s':>8} {'vs local':>9}")
    for (executor, workers), wall in walls.items():
        print(f"{executor:>9} {workers:>8} {wall:>8.1f} {wall / walls[('local', workers)]:>9.2f}")
    print(f"catalogs identical: {identical}" + ("" if identical else f"; tables differing from local-1: {differing}"))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"identical": int(identical), "ray_wall_s": round(walls[("ray", 2)], 2),
                      "local_wall_s": round(walls[("local", 2)], 2), "ray_wall_s_1": round(walls[("ray", 1)], 2),
                      "local_wall_s_1": round(walls[("local", 1)], 2), "docs": n_docs}))


if __name__ == "__main__":
    main()
