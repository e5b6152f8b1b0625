"""Which block is running and which source line asked: shared by the copy and sync detectors.

Both answers must be cheap, because the detectors ask them inside torch's dispatch path: the block
and the line both come from a ``sys._getframe`` walk that is only taken when something worth
reporting happened.
"""

from __future__ import annotations

import sys
from types import FrameType

from torch import nn

from netscope.engine.errors import display_path, is_internal_file

OUTSIDE_MODEL = "(step)"  # block name for work done by step() outside the model's forward

_internal_cache: dict[str, bool] = {}
_display_cache: dict[str, str] = {}


def _is_internal(filename: str) -> bool:
    known = _internal_cache.get(filename)
    if known is None:
        known = _internal_cache[filename] = is_internal_file(filename)
    return known


def caller_location(skip: int = 1) -> str | None:
    """``file.py:LINE`` of the innermost frame outside torch and netscope, or None."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_internal(filename):
            shown = _display_cache.get(filename)
            if shown is None:
                shown = _display_cache[filename] = display_path(filename)
            return f"{shown}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def block_paths(model: nn.Module) -> dict[int, str]:
    """``id(module) -> path`` for every module of the tree (a reused module keeps its first)."""
    return {id(module): path for path, module in model.named_modules()}


_CALL_CODE = nn.Module._call_impl.__code__  # the frame of every module call: its ``self``


class BlockTracker:
    """Names the innermost running block of ``model`` from the call stack, only when asked.

    No module hooks: global hooks would push every module call off torch's fast path, while the
    block is only needed for a finding. Modules outside the model (a loss module built in
    ``step``) are skipped, so their work counts to the enclosing block.
    """

    def __init__(self, model: nn.Module) -> None:
        self._paths = block_paths(model)

    @property
    def current(self) -> str:
        return innermost_block(self._paths)


def innermost_block(paths: dict[int, str]) -> str:
    """The path of the innermost running module found in ``paths``, from the call stack."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _CALL_CODE:
            path = paths.get(id(frame.f_locals.get("self")))
            if path is not None:
                return path
        frame = frame.f_back
    return OUTSIDE_MODEL


def location_key(location: str | None) -> tuple[str, int]:
    """Sort key that orders ``file.py:9`` before ``file.py:10``."""
    if not location:
        return ("", 0)
    file, _, line = location.rpartition(":")
    return (file, int(line)) if line.isdigit() else (location, 0)
