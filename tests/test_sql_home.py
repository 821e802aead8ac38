"""Where SQL text may live (the rule in sql/__init__.py and docs/development.md), checked on the source.

- The question packages (reports/, train/, curate/cli/, curate/demo/) hold no SQL statement: what they ask
  the catalog is a named file under sql/ (``Catalog.ask``, ``Catalog.report``).
- Inline statements live only in the catalog (curate/core/) and the curation stages and algorithms, and
  those never read the result tables: a question about results is a named query.
- Every file under sql/queries/ is loaded by name somewhere, every name asked for exists, and each file
  declares exactly the ``$params`` and ``{splices}`` its body uses.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import sql

ROOT = Path(__file__).resolve().parents[1]
QUESTION_PACKAGES = ("reports", "train", "curate/cli", "curate/demo")
COMPUTE_PACKAGES = ("curate/stages", "curate/dedup", "curate/diversity", "curate/mix", "curate/models", "curate/pipeline")
INLINE_ALLOWED = ("curate/core", *COMPUTE_PACKAGES)
# Tables written by train, reports and a mix sweep's records: what other commands answer questions from.
RESULT_TABLES = {"train_runs", "train_curve", "evals", "eval_doc_losses", "studies", "study_effects", "study_outcomes",
                 "correlations", "scale_agreement", "search_runs", "search_predictions", "search_folds", "search_comparisons",
                 "mixture_design", "mixture_covariates", "diversity", "quality_model_fit"}
STATEMENT = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|SET|PRAGMA|ATTACH|DETACH|INSTALL|LOAD"
                       r"|DESCRIBE|SUMMARIZE|EXPLAIN)\s+\S")
READS = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
ASKS = {"ask", "read_query"}


def _sources() -> list[Path]:
    return sorted(p for pkg in ("curate", "train", "reports", "sql") for p in (ROOT / pkg).rglob("*.py"))


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def statements(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``path`` that is an SQL statement (docstrings excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None and id(node) not in docstrings | inner and STATEMENT.match(text):
            found.append((node.lineno, " ".join(text.split())))
    return found


def _where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_question_packages_hold_no_sql():
    offenders = [f"{_where(p)}:{line}: {text[:80]}" for p in _sources() if _where(p).startswith(QUESTION_PACKAGES)
                 for line, text in statements(p)]
    assert offenders == [], "move these statements to sql/queries/<area>/<name>.sql and run them with Catalog.ask"


def test_inline_sql_only_in_the_catalog_and_the_stages():
    offenders = [f"{_where(p)}:{line}: {text[:80]}" for p in _sources() if not _where(p).startswith(INLINE_ALLOWED)
                 for line, text in statements(p)]
    assert offenders == []


def test_stages_ask_no_inline_question_of_the_results():
    offenders = [f"{_where(p)}:{line}: reads {sorted(tables)}" for p in _sources() if _where(p).startswith(COMPUTE_PACKAGES)
                 for line, text in statements(p) if (tables := set(READS.findall(text)) & RESULT_TABLES)]
    assert offenders == []


def _asked() -> set[str]:
    """Every literal passed to ``.ask(...)`` / ``read_query(...)`` and every literal that names a query (as in a tuple the
    caller loops over; ``Catalog.ask`` itself passes a variable)."""
    names = set(sql.list_queries())
    asked = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in ASKS and node.args:
                asked |= {text} if (text := _text(node.args[0])) is not None else set()
            elif isinstance(node, ast.Constant) and node.value in names:
                asked.add(node.value)
    return asked


def test_every_query_is_loaded_and_every_asked_one_exists():
    asked, known = _asked(), set(sql.list_queries())
    assert known - asked == set(), "dead SQL files: nothing loads them"
    assert asked - known == set(), "asked for queries that do not exist"


@pytest.mark.parametrize("name", sql.list_queries())
def test_query_header_declares_what_the_body_uses(name):
    file = sql.read_query(name)
    assert file.doc, f"{name} lacks its '-- {name.split('/')[-1]}: what it answers' header"
    assert set(file.params) == file.used_params(), f"{name}: declared {file.params}, used {sorted(file.used_params())}"
    assert set(file.splices) == file.used_splices(), f"{name}: declared splices {file.splices}, used {sorted(file.used_splices())}"
    assert "{" not in re.sub(r"\{[A-Za-z_][A-Za-z0-9_]*\}", "", file.text), "no Python format fields besides declared splices"


def test_render_fills_exactly_the_declared_splices():
    file = sql.read_query("shared/columns")
    assert file.render({"view": '"documents"'}).endswith('SELECT * FROM "documents" LIMIT 0\n')
    with pytest.raises(ValueError, match="declares splices"):
        file.render({})
    with pytest.raises(KeyError, match="no query named"):
        sql.read_query("../reports/funnel")
