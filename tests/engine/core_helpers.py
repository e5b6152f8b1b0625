"""Helpers for the core engine tests: sample model paths, snapshots, small model files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from netscope.engine.api import take_snapshot
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions

SAMPLES = Path(__file__).resolve().parents[2] / "sample_models"


def sample(name: str) -> str:
    return str(SAMPLES / name)


def snap(target: str, **options: object) -> Snapshot:
    return take_snapshot(LoadOptions(target, **options))  # type: ignore[arg-type]


def write_model(folder: Path, name: str, source: str) -> str:
    """Write dedented ``source`` to folder/name and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return str(path)


def line_of(path: str, marker: str) -> int:
    """The 1-based line carrying ``marker`` in ``path``."""
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in {path}")
