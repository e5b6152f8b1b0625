"""A root: a module called with no block on the stack (a model, when it has parameters), and the
keyword arguments of the call whose global pre-hooks are running."""

from __future__ import annotations

import sys
import weakref
from typing import Any

import torch

from netscope.engine.run.compile_safe import original_class
from netscope.engine.run.run_snapshot import unwrap


class Root:
    """One root module seen by the watcher: weakly held, its parameters, its calls."""

    __slots__ = ("calls", "cls", "hooked", "param_ids", "params", "ref")

    def __init__(self, module: torch.nn.Module) -> None:
        self.ref = weakref.ref(module)
        # the user's model by its own class: under torch.compile, DDP, Lightning or accelerate
        self.cls = original_class(unwrap(module)[0]).__name__
        unique = {id(p): p for p in module.parameters()}
        self.param_ids = frozenset(unique)
        self.params = sum(p.numel() for p in unique.values() if not is_lazy(p))
        self.calls = 0
        self.hooked = True  # its calls are seen (not only inside a compiled step)


def is_lazy(param: torch.Tensor) -> bool:
    return isinstance(param, torch.nn.parameter.UninitializedParameter)


MODULE_FILE = torch.nn.Module._call_impl.__code__.co_filename


def call_kwargs() -> dict[str, Any]:
    """The keyword arguments of the module call whose pre-hooks are running.

    torch hands global forward pre-hooks only the positional arguments, yet a Hugging Face model
    gets every input by keyword: they are read from torch's own call frame, a few frames up.
    """
    frame = sys._getframe(1)
    for _ in range(8):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            break
        if frame.f_code.co_filename == MODULE_FILE and "kwargs" in frame.f_locals:
            kwargs = frame.f_locals["kwargs"]
            return kwargs if isinstance(kwargs, dict) else {}
    return {}


def optimized_ids(stepped: list[Any], boundary: Any) -> tuple[frozenset[int], frozenset[int]]:
    """Parameter ids the boundary optimizer updates, and those any optimizer updates (the
    optimizers that stepped and the boundary one, as weak references)."""
    main: set[int] = set()
    every: set[int] = set()
    for ref in stepped:
        opt = ref()
        if opt is None:
            continue
        ids = {id(p) for group in opt.param_groups for p in group["params"]}
        every |= ids
        if boundary is not None and opt is boundary():
            main |= ids
    return frozenset(main), frozenset(every)
