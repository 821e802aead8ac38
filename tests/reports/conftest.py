"""Session fixtures: one complete generated run (built once, analysed once) and an empty run."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.core.catalog import Catalog
from curate.stages import declared_views
from reports.analysis import analyse
from tests.reports.fixture_run import build_run


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Curated, mixed, 'trained' (generated results) and analysed: every report has rows here."""
    run_dir = build_run(tmp_path_factory.mktemp("full"))
    analyse(run_dir, n_boot=500)
    return run_dir


@pytest.fixture(scope="session")
def empty_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog with the schema and placeholder views only (as the runner opens it first)."""
    run_dir = tmp_path_factory.mktemp("empty") / "run"
    Catalog(run_dir, views=declared_views()).close()
    return run_dir
