"""The test suite's own layout: test modules share helpers through tests/support.py,
tests/factories.py and tests/conftest.py, never by importing one another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts)


def imported(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(module, name) for every import in *tree*; name is None for ``import module``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [(module, alias.name) for alias in node.names]
    return found


def is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.lstrip(".").split("."))


def wrong_imports(source: str) -> list[str]:
    """The imports in *source* of a test module, of a private name, or from conftest."""
    wrong = []
    for module, name in imported(ast.parse(source)):
        local = module.startswith((".", "tests.")) or module in {"tests", "conftest"}
        if not local:
            continue
        if is_test_module(module) or (name and name.startswith("test_")):
            wrong.append(f"{module} {name or ''}: import from tests/support.py instead")
        elif name and name.startswith("_"):
            wrong.append(f"{module} {name}: a shared helper is public, in tests/support.py")
        elif module.endswith("conftest"):
            wrong.append(f"{module} {name or ''}: conftest gives fixtures, not imports")
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(TESTS)) for p in MODULES])
def test_no_test_module_imports_another_or_a_private_helper(path: Path):
    assert wrong_imports(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_what_it_forbids():
    test = "test_"  # written apart, so that grepping the suite for such imports finds none
    source = (
        f"from tests.{test}api import auth\n"
        f"import tests.{test}search\n"
        "from tests.support import _private\n"
        "from . import test_views\n"
        "from tests.conftest import make_app\n"
        "from tests.support import login\n"
        "from workflow.queries.search import _first_window\n"
    )
    assert len(wrong_imports(source)) == 5
