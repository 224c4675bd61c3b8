"""The import graph points down only: entry points → services and selectors → models.

A small AST walk rather than import-linter: the rules are few, the walk sees every import
(including those inside functions, which a lazy import would otherwise hide) and needs no
dependency or configuration file of its own.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "backorders"

ENTRY_POINTS = (
    "backorders.platforms",
    "backorders.api",
    "backorders.admin",
    "backorders.selfservice",
    "backorders.dashboard",
    "backorders.templatetags",
    "config",
)
RULES = {
    "backorders.services": ENTRY_POINTS,
    "backorders.selectors": (*ENTRY_POINTS, "backorders.services"),
    "backorders.models": (*ENTRY_POINTS, "backorders.services", "backorders.selectors", "backorders.tasks"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module ``source`` imports, absolute, with its line (relative imports resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    layer = next((layer for layer in RULES if module == layer or module.startswith(layer + ".")), None)
    if layer is None:
        return []
    return sorted(
        {
            f"{module}:{line} imports {name}"
            for line, name in imports_of(source, module, is_package=is_package)
            for forbidden in RULES[layer]
            if name == forbidden or name.startswith(forbidden + ".")
        }
    )


def test_the_core_imports_no_entry_point_and_models_import_nothing_above_them():
    found = []
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found += violations(path.read_text(), module_name(path), is_package=path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("backorders.services.stock", "from backorders.platforms.shopify import handlers"),
        ("backorders.services.stock", "def f():\n    from backorders.admin import base\n"),
        ("backorders.services.notifications.planning", "from ...selfservice import tokens"),
        ("backorders.selectors.queue", "import config.settings"),
        ("backorders.models.orders", "from backorders.services.audit import Actor"),
        ("backorders.models.orders", "from backorders import tasks"),
    ],
)
def test_the_check_fails_when_a_forbidden_import_is_added(module, source):
    assert violations(source, module) != []


def test_allowed_imports_pass_the_check():
    assert (
        violations(
            "from backorders.models import Backorder\nfrom django.db import models", "backorders.services.x"
        )
        == []
    )
    assert violations("from backorders.services.audit import Actor", "backorders.admin.orders") == []
