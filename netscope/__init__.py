"""netscope: see inside a PyTorch model, in the terminal and in reports.

From Python (docs/api.md): ``netscope.inspect(model, x)`` returns a Report, ``netscope.open(model,
x)`` runs the app on it. They are loaded on first use, so ``import netscope`` (and the CLI, which
imports this package) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from netscope.python_api import Report as Report
    from netscope.python_api import inspect as inspect
    from netscope.python_api import open as open

_API = ("Report", "inspect", "open")
# ``from netscope import *`` must not shadow the builtin ``open`` or the stdlib's ``inspect``
__all__ = ["Report", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from netscope import python_api

        return getattr(python_api, name)
    raise AttributeError(f"module 'netscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
