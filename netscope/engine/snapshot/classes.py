"""What kind of block a class is: built-in or the user's, a container, where it is defined."""

from __future__ import annotations

import inspect

from torch import nn

from netscope.engine.errors import display_path

_SOURCE_CACHE: dict[type, str | None] = {}
# Containers that hold blocks but are never called themselves: their call count is not a fact
# (a bare ``nn.Module()`` used as a namespace is one too: it has no forward).
CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def is_builtin(cls: type) -> bool:
    """torch.nn (and other torch) classes are built-ins; everything else is the user's."""
    return cls.__module__ == "torch" or cls.__module__.startswith("torch.")


def class_source(cls: type) -> str | None:
    """``file.py:LINE`` of a class definition, cached per class (inspect reads the file)."""
    if cls not in _SOURCE_CACHE:
        try:
            filename = inspect.getsourcefile(cls)
            line = inspect.getsourcelines(cls)[1] if filename else None
            _SOURCE_CACHE[cls] = f"{display_path(filename)}:{line}" if filename else None
        except (OSError, TypeError):
            _SOURCE_CACHE[cls] = None
    return _SOURCE_CACHE[cls]
