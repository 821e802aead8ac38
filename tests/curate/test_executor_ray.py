"""The Ray executor runs the demo recipe's stages with the same results as the local process pool."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from tests.snapshot import assert_same_catalog

ray = pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'mixlab[ray]')")


def _demo_recipe_on(corpus_glob: str) -> dict:
    text = (resources.files("curate") / "recipes" / "demo.yaml").read_text()
    recipe = yaml.safe_load(text)
    recipe["inputs"] = [{"path": corpus_glob, "id_field": "id", "source": "{file}"}]
    recipe["ingest"] = {**recipe.get("ingest", {}), "shard_docs": 40}
    return recipe


def test_ray_and_local_catalogs_are_identical(tmp_path, run_recipe):
    docs = make_corpus(240, seed=5)
    for domain in ("cooking", "software", "law"):
        write_jsonl(tmp_path / "data" / f"{domain}.jsonl", to_records([d for d in docs if d.domain == domain]))
    recipe = _demo_recipe_on("data/*.jsonl")
    local = run_recipe(recipe, workers=1, run_name="local")  # one local worker vs two Ray workers: placement and worker count
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner

    ray_run = RecipeRunner(parse_recipe({**recipe, "name": "test"}), tmp_path, tmp_path / "ray", workers=2,
                           progress=False, executor="ray").run()
    assert ray_run.n_docs == local.n_docs > 0
    assert_same_catalog(local.run_dir, ray_run.run_dir)


@pytest.mark.slow  # a second Ray start-up (~15 s on 2 cores); the fast suite keeps one Ray run above
def test_failing_task_names_its_shard(tmp_path):
    from curate.pipeline.executor_ray import RayPool, RayTaskError

    pool = RayPool(workers=1, max_retries=1)
    try:
        with pytest.raises(RayTaskError, match=r"part-00007-0001 failed after 2 attempts"):
            pool.run(_explode, [("part-00007-0001",)], lambda r: None)
    finally:
        pool.close()


def _explode(shard: str) -> None:
    raise ValueError(f"cannot read {shard}")
