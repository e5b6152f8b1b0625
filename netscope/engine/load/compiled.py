"""torch.compile'd models: the ``OptimizedModule`` wrapper, the module it holds, its backend.

netscope's instrumentation (forward hooks keeping a block stack, torch function and dispatch
modes) breaks dynamo's tracing, so every instrumented pass runs the original module
(``_orig_mod``) eagerly, under ``eager()``; only the headline step timing runs the compiled module
as the user does. The snapshot describes the original module, with block paths as users know them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from netscope.engine.load.loaded import LoadedTarget


@dataclass(frozen=True)
class Compiled:
    """A compiled root module: the module it wraps and the backend it compiles with."""

    original: nn.Module
    backend: str  # "inductor", "eager", "aot_eager", a custom backend's name; "" when unknown


def _optimized_module() -> type | None:
    """dynamo's wrapper class, only when dynamo is loaded (importing it costs seconds)."""
    if "torch._dynamo" not in sys.modules:
        return None
    from torch._dynamo.eval_frame import OptimizedModule

    return OptimizedModule


def backend_name(module: nn.Module) -> str:
    """The backend a ``torch.compile`` wrapper compiles with, read from its callback chain."""
    found = getattr(getattr(module, "dynamo_ctx", None), "callback", None)
    for _ in range(8):
        if found is None:
            break
        name = getattr(found, "compiler_name", None)
        if isinstance(name, str) and name:
            return name
        found = getattr(found, "_torchdynamo_orig_backend", None)
    return ""


def compiled_root(model: nn.Module | None) -> Compiled | None:
    """The original module and backend when ``model`` is a torch.compile wrapper, else None."""
    wrapper = _optimized_module()
    if model is None or wrapper is None or not isinstance(model, wrapper):
        return None
    original: Any = model._orig_mod
    while isinstance(original, wrapper):  # torch.compile(torch.compile(m))
        original = getattr(original, "_orig_mod")  # noqa: B009 (typed as Any on purpose)
    return Compiled(original, backend_name(model))


def compiled_blocks(model: nn.Module) -> list[str]:
    """Paths of compiled submodules (``self.encoder = torch.compile(Encoder())``)."""
    wrapper = _optimized_module()
    if wrapper is None:
        return []
    return [path for path, m in model.named_modules() if path and isinstance(m, wrapper)]


def eager_target(loaded: LoadedTarget) -> tuple[LoadedTarget, Compiled | None]:
    """``loaded`` with a compiled root replaced by its original module (else unchanged)."""
    compiled = compiled_root(loaded.model)
    if compiled is None:
        return loaded, None
    return replace(loaded, model=compiled.original), compiled


def describe(compiled: Compiled) -> str:
    backend = f"backend {compiled.backend!r}" if compiled.backend else "an unknown backend"
    return f"torch.compile'd ({backend})"


@contextmanager
def eager() -> Iterator[None]:
    """Run compiled modules and functions eagerly inside (dynamo disabled), restored after.

    Covers what unwrapping the root cannot: compiled submodules and compiled functions that a
    forward calls. Nothing happens when dynamo is not loaded: nothing can be compiled then.
    """
    if "torch._dynamo" not in sys.modules:
        yield
        return
    import torch._dynamo.config as dynamo_config

    with dynamo_config.patch(disable=True):
        yield


def compile_note(compiled: Compiled | None, nested: list[str]) -> str:
    """The snapshot's words for a compiled model or compiled blocks; "" for neither."""
    parts = []
    if compiled is not None:
        parts.append(
            f"the model is {describe(compiled)}: the tree, parameters and ties are those of the "
            "original module (`_orig_mod`), and the example forward and backward ran it "
            "eagerly, measured eagerly under netscope's hooks (they break dynamo's tracing)"
        )
    if nested:
        shown = ", ".join(f"`{p}`" for p in nested[:5]) + (" ..." if len(nested) > 5 else "")
        parts.append(
            f"compiled block(s) {shown} (torch.compile: paths below them hold `_orig_mod`) ran "
            "eagerly in the example forward"
        )
    return "; ".join(parts)
