"""App tests fail, never skip, when netscope (or a test helper built on it) cannot be imported:
``pytest.importorskip`` turns a broken engine into a quiet skip. Only optional third-party
packages may be skipped over."""

from __future__ import annotations

import ast
from pathlib import Path

OPTIONAL = {"transformers", "jsonschema"}  # not netscope's: a skip is honest there


def skipped_imports(source: str) -> list[str]:
    """The module names passed to ``importorskip`` in ``source``."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip":
            first = node.args[0] if node.args else None
            names.append(first.value if isinstance(first, ast.Constant) else "?")
    return names


def test_no_app_test_skips_over_an_import_of_netscope() -> None:
    found = {
        path.name: name
        for path in Path(__file__).parent.glob("*.py")
        for name in skipped_imports(path.read_text())
        if name.split(".")[0] not in OPTIONAL
    }
    assert found == {}


def test_a_skipped_import_of_netscopes_helpers_is_found() -> None:
    source = 'import pytest\nsharded = pytest.importorskip("tests.engine.sharded.fake_world")\n'
    assert skipped_imports(source) == ["tests.engine.sharded.fake_world"]
