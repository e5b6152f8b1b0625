"""Golden-file comparison in the torchinfo style: run with --update-golden to rewrite."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).parent / "golden"
REL_TOL = 1e-4  # float statistics may differ in the last digits across CPUs


def _normalize(report: dict[str, Any]) -> dict[str, Any]:
    """Fields that change with the release, not with the model."""
    return {**report, "netscope_version": "<version>"}


def _close(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for k in expected for d in _close(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: length {len(expected)} != {len(actual)}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _close(e, a, f"{where}[{i}]")
        ]
    if (
        isinstance(expected, float)
        and isinstance(actual, (int, float))
        and not isinstance(actual, bool)
    ):
        ok = math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=1e-7)
        return [] if ok else [f"{where}: {expected} != {actual}"]
    return (
        []
        if expected == actual and type(expected) is type(actual)
        else [f"{where}: {expected!r} != {actual!r}"]
    )


def check_json_golden(name: str, text: str, update: bool) -> None:
    actual = _normalize(json.loads(text))
    path = GOLDEN_DIR / name
    if update:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path}: run pytest --update-golden"
    diffs = _close(json.loads(path.read_text(encoding="utf-8")), actual, "$")
    assert not diffs, (
        f"{name} differs from golden (pytest --update-golden rewrites):\n" + "\n".join(diffs[:20])
    )


def check_text_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN_DIR / name
    if update:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path}: run pytest --update-golden"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs: pytest --update-golden"
