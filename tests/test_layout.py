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


# Import cycles. The graph has one node per module of curate/, train/, reports/ and sql/ and one edge per
# import statement naming another of them, resolved as Python would: relative imports against the
# importing module's package, ``from pkg import name`` to the module ``pkg.name`` when it is one (else to
# ``pkg``). Imports inside functions count (they are deferred for start-up time, not to hide a
# dependency); imports under ``if TYPE_CHECKING:`` do not (they never run). Importing ``a.b`` also runs
# ``a/__init__.py`` first, but that implicit edge is not drawn: a package whose ``__init__`` imports its
# own submodules (``curate.cli`` registering its command groups) would otherwise always be a cycle. Most
# package ``__init__`` files here are docstrings only; ``curate.core.catalog`` and ``curate.cli`` hold their
# package's main module, and the test below sees whatever they import.
PACKAGES = ("curate", "train", "reports", "sql")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _runtime_imports(tree: ast.AST, typing: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at module level, in functions, not under TYPE_CHECKING (unless ``typing``)."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if not typing and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _known_prefix(dotted: str) -> str | None:
    parts = dotted.split(".")
    return next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in MODULES), None)


def _edges(name: str, path: Path, typing: bool = False) -> set[str]:
    """The modules of this project that ``name`` imports (with ``typing``, also under TYPE_CHECKING)."""
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), typing):
        if isinstance(node, ast.Import):
            out |= {m for a in node.names if (m := _known_prefix(a.name))}
            continue
        base = node.module or ""
        if node.level:  # relative: against the package of this module (itself, for an __init__)
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        for alias in node.names:
            target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else _known_prefix(base)
            if target:
                out.add(target)
    return out - {name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of each strongly connected component with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            covered: set[str] = set()
            for member in sorted(component) if len(component) > 1 else ():
                if member not in covered:  # one shortest cycle through each module no cycle so far passes
                    components.append(_one_cycle(graph, set(component), member))
                    covered |= set(components[-1])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _one_cycle(graph: dict[str, set[str]], members: set[str], start: str) -> list[str]:
    """A shortest path from ``start`` back to itself, inside its component (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")


def test_no_import_cycles():
    graph = {name: _edges(name, path) for name, path in MODULES.items()}
    assert [" -> ".join(cycle) for cycle in import_cycles(graph)] == []


def test_cycle_check_finds_a_cycle_and_resolves_import_forms(tmp_path):
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"], ["c", "a", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []
    assert _edges("curate.cli", MODULES["curate.cli"]) >= {"curate.core.command", "curate.core.catalog"}
    assert "curate.stages.minhash_dedup" in _edges("curate.stages", MODULES["curate.stages"])  # inside a function
    relative = tmp_path / "curate" / "dedup" / "x.py"
    relative.parent.mkdir(parents=True)
    relative.write_text("from . import lsh\nfrom ..text import words\nfrom .shingles import pack\n")
    assert _edges("curate.dedup.x", relative) == {"curate.dedup.lsh", "curate.text", "curate.dedup.shingles"}


# The leaf layer: shared infrastructure sits at the bottom of curate and imports nothing above it (no stage,
# pipeline, mixture, demo, trainer or report; not even for type hints): the runner hands the catalog the stage
# and table schemas it needs (curate.core.catalog.declared). The demo drives curate, train and reports, so it sits
# at the top: nothing imports it but the command line that runs it.
INFRASTRUCTURE = ("curate.core",)
DEMO_USERS = ("curate.cli",)


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def leaf_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that leave the infrastructure layer (to anything but itself and ``sql``), imports of curate's
    command line by train or reports (they share ``curate.core.command``), and imports of the demo by anything
    but itself and its command line."""
    out = [f"{m} imports {t}" for m in sorted(graph) if _within(m, INFRASTRUCTURE)
           for t in sorted(graph[m]) if not _within(t, (*INFRASTRUCTURE, "sql"))]
    out += [f"{m} imports {t}" for m in sorted(graph) if _within(m, ("train", "reports"))
            for t in sorted(graph[m]) if _within(t, ("curate.cli",))]  # another app's command line
    return out + [f"{m} imports {t}" for m in sorted(graph) if not _within(m, ("curate.demo", *DEMO_USERS))
                  for t in sorted(graph[m]) if _within(t, ("curate.demo",))]


def test_infrastructure_is_a_leaf_and_the_demo_a_root():
    graph = {name: _edges(name, path, typing=True) for name, path in MODULES.items()}
    assert leaf_violations(graph) == []


def test_leaf_check_finds_what_breaks_the_layers():
    graph = {"curate.core.catalog": {"curate.stages", "curate.core.storage", "sql.quote"}, "curate.core.catalog.access": {"curate.pipeline.runner"},
             "curate.core.storage": set(), "curate.stages": {"curate.core.catalog"}, "train.loop": {"curate.demo.loop", "curate.core.catalog"},
             "curate.cli": {"curate.demo.loop"}, "curate.core.threads": {"train"}, "curate.core.display": {"reports.cli"},
             "reports.cli": {"curate.cli.run", "curate.core.command"}}
    assert leaf_violations(graph) == ["curate.core.catalog imports curate.stages", "curate.core.catalog.access imports curate.pipeline.runner",
                                      "curate.core.display imports reports.cli", "curate.core.threads imports train",
                                      "reports.cli imports curate.cli.run",
                                      "train.loop imports curate.demo.loop"]

