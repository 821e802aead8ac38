"""Architecture guards: imports flow sql <- curate <- {train, reports}; generic names import from mixlab."""

from __future__ import annotations

import ast
from importlib.metadata import distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"sql": {"curate", "train", "reports"}, "curate": {"train", "reports"}, "train": {"reports"}, "reports": {"train"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package):
    offenders = [
        f"{path.relative_to(ROOT)} imports {bad}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for bad in _imports(path) & FORBIDDEN[package]
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["curate", "train", "reports", "sql"])
def test_generic_package_names_come_from_this_distribution(package):
    module = __import__(package)
    here = Path(module.__file__).resolve()
    dist = distribution("mixlab")
    owned = [f for f in dist.files or [] if str(f).startswith(f"{package}/")]
    if owned:  # regular install: the module is one of the distribution's files
        assert here in {Path(dist.locate_file(f)).resolve() for f in owned}
    else:  # editable install: the distribution's finder maps the package to this checkout
        finders = [f for f in dist.files or [] if "finder" in str(f)]
        assert any(str(ROOT / package) in Path(dist.locate_file(f)).read_text() for f in finders)
        assert here.is_relative_to(ROOT / package)


def test_no_module_over_400_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for pkg in ("curate", "train", "reports", "sql")
            for p in (ROOT / pkg).rglob("*.py") if (n := len(p.read_text().splitlines())) > 400]
    assert long == []
