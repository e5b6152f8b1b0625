"""netscope: see inside a PyTorch model, in the terminal and in reports.

From Python (docs/api.md): ``netscope.inspect(model, x)`` returns a Report, ``netscope.open(model,
x)`` runs the app on it (netscope/python_api). They are loaded on first use, so ``import netscope``
(and the CLI, which imports this package) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

API = ("Report", "inspect", "open")
# ``from netscope import *`` must not shadow the builtin ``open`` or the stdlib's ``inspect``
__all__ = ["Report", "__version__"]


def __getattr__(name: str) -> Any:
    """``netscope.inspect`` and friends, from netscope/python_api, the top layer. Loaded by name:
    the layers below import this package (for ``__version__``), so an import statement here
    would make every one of them depend on the layer above them."""
    if name in API:
        return getattr(importlib.import_module("netscope.python_api"), name)
    raise AttributeError(f"module 'netscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})
