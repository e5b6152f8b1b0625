"""Small helpers shared by the profiler tests."""

from __future__ import annotations

import inspect
from pathlib import Path

from netscope.engine.errors import display_path


def marked_location(module: object, marker: str) -> str:
    """``file.py:LINE`` of the line carrying ``# MARK:<marker>`` in ``module``'s source file."""
    path = inspect.getsourcefile(module)
    assert path is not None
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.rstrip().endswith(f"# MARK:{marker}"):
            return f"{display_path(path)}:{number}"
    raise AssertionError(f"no line marked {marker!r} in {path}")


def file_line(path: Path, marker: str) -> str:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.rstrip().endswith(f"# MARK:{marker}"):
            return f"{display_path(str(path))}:{number}"
    raise AssertionError(f"no line marked {marker!r} in {path}")
