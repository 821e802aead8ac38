"""``curate demo``: the whole loop on real text found on this machine.

Steps (each resumable; a second run re-uses finished steps): build the corpus, run the demo recipe.
"""

from __future__ import annotations

import shutil
import time
from importlib import resources
from pathlib import Path

from rich.console import Console

from curate.catalog import Catalog
from curate.demo_corpus import build_demo_corpus
from curate.display import print_frame
from curate.recipe import load_recipe
from curate.runner import RecipeRunner

DOCS_PER_DOMAIN = {"quick": 150, "full": 600}


def run_demo(out: Path, quick: bool = False, workers: int = 2, progress: bool = True) -> Path:
    """Run the demo into ``out``; returns the run folder (``out/run``)."""
    console = Console(stderr=True)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "raw"
    if not any(raw.glob("*.jsonl.gz")):
        console.print("[bold]step 1/2[/] building the corpus from text on this machine ...")
        counts = build_demo_corpus(raw, DOCS_PER_DOMAIN["quick" if quick else "full"])
        console.print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    recipe_path = out / "demo.yaml"
    if not recipe_path.exists():
        with resources.as_file(resources.files("curate") / "recipes" / "demo.yaml") as src:
            shutil.copy(src, recipe_path)
    console.print(f"[bold]step 2/2[/] curating with {recipe_path} ...")
    recipe = load_recipe(recipe_path)
    run_dir = out / "run"
    RecipeRunner(recipe, out, run_dir, workers=workers, progress=progress).run()
    with Catalog(run_dir, read_only=True) as cat:
        print_frame(cat.report("funnel"), title="funnel")
    console.print(f"catalog: {(run_dir / 'catalog.duckdb').resolve()}  ({time.perf_counter() - started:.0f}s)")
    return run_dir
