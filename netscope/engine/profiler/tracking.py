"""Which block is running and which source line asked: shared by the copy and sync detectors.

Both answers must be cheap, because the detectors ask them inside torch's dispatch path: the block
comes from a stack kept by global module hooks, the line from a ``sys._getframe`` walk that is
only taken when something worth reporting happened.
"""

from __future__ import annotations

import sys
from types import TracebackType

from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

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
    frame = sys._getframe(skip)
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


class BlockTracker:
    """Keeps the path of the innermost running block of ``model`` while entered.

    Modules outside the model (a loss module built in ``step``) inherit the enclosing block.
    """

    def __init__(self, model: nn.Module) -> None:
        self._paths = block_paths(model)
        self._stack: list[str] = [OUTSIDE_MODEL]
        self._handles: list = []

    @property
    def current(self) -> str:
        return self._stack[-1]

    def reset(self) -> None:
        del self._stack[1:]

    def _pre(self, module: nn.Module, args: object) -> None:
        self._stack.append(self._paths.get(id(module), self._stack[-1]))

    def _post(self, module: nn.Module, args: object, output: object) -> None:
        if len(self._stack) > 1:
            self._stack.pop()

    def __enter__(self) -> BlockTracker:
        self.reset()
        self._handles = [
            register_module_forward_pre_hook(self._pre),
            register_module_forward_hook(self._post, always_call=True),
        ]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.reset()


def location_key(location: str | None) -> tuple[str, int]:
    """Sort key that orders ``file.py:9`` before ``file.py:10``."""
    if not location:
        return ("", 0)
    file, _, line = location.rpartition(":")
    return (file, int(line)) if line.isdigit() else (location, 0)
