"""Is the target there? Asked before anything slow starts (the app, a worker, torch's import), so a
mistyped path is one line of error, the same from every command. No torch import."""

from __future__ import annotations

import os

from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.options import split_target


def require_file(path: str, kind: str) -> None:
    """Raise ``no such <kind>: <path>`` unless ``path`` is a file."""
    if not os.path.isfile(path):
        raise NetscopeError(f"no such {kind}: {display_path(path)}", path=path)


def require_target(target: str) -> None:
    """A model file (``model.py`` or ``model.py:NAME``) must be a file; a checkpoint a file or a
    save_pretrained folder."""
    path = split_target(target)[0]
    if path.endswith(".py"):
        require_file(path, "model file")
    elif not os.path.exists(path):
        raise NetscopeError(f"no such checkpoint file or folder: {display_path(path)}", path=path)
