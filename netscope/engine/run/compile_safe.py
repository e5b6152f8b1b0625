"""netscope's hooks never enter a torch.compile'd graph.

With global module hooks installed, dynamo traces ``Module._call_impl`` with its hooks: a hook
that reads the clock or the watcher's state would be traced into the user's graph (graph breaks at
netscope's lines, guards on netscope's state, recompiles). So:

- every netscope module hook returns at once when dynamo traces it (``outside_graphs``): traced
  as nothing, it adds no graph break, no guard on netscope's state and no op to the graph;
- the hooks dicts are guarded by dynamo, so no global hook is added or removed once the script
  compiles something: a block clock on a compiled model hooks the ``OptimizedModule`` wrappers
  only (their own ``__call__`` runs outside dynamo) and times each compiled block as a whole,
  named by its original module's path (``_orig_mod`` left out);
- the detectors' torch function and dispatch modes are guarded by dynamo too: once the script
  has compiled anything, sampled detection and the counted step are left out (said in a note);
- dynamo never compiles netscope's hook functions as frames of their own (``never_compiled``);
- torch warns at every call of a compiled module while global hooks exist; that warning is
  netscope's doing, so it is filtered while netscope watches (``quiet_hook_warning``).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.modules import module as module_hooks

from netscope.engine.dynamo_frames import never_compiled
from netscope.engine.snapshot.classes import user_class

COMPILED_WRAPPER = "OptimizedModule"
ORIG = "_orig_mod"
HOOK_WARNING = "Using `torch.compile(module)` when there are global hooks on modules"
_is_compiling = torch.compiler.is_compiling


def outside_graphs(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook``, made a no-op while dynamo traces it (eager calls run it as before)."""

    def guarded(*args: Any) -> Any:
        if _is_compiling():
            return None
        return hook(*args)

    guarded.__wrapped__ = hook  # type: ignore[attr-defined]
    return guarded


def original_class(module: nn.Module) -> type:
    """The class of the module a torch.compile wrapper holds (the module's own otherwise), as
    the user wrote it (``snapshot.classes.user_class``: not FSDP2's generated subclass)."""
    for _ in range(8):
        if type(module).__name__ != COMPILED_WRAPPER or not hasattr(module, ORIG):
            break
        module = getattr(module, ORIG)
    return user_class(module)


def dynamo_compiled_anything() -> bool:
    """Whether dynamo has compiled a frame in this process (without importing it). Asked at
    every step boundary: dynamo's counters are looked up once, then read with ``get``."""
    counters = _DYNAMO_COUNTERS[0] if _DYNAMO_COUNTERS else _dynamo_counters()
    if counters is None:
        return False
    frames = counters.get("frames")
    return bool(frames and frames.get("total", 0))


_DYNAMO_COUNTERS: list[Any] = []  # dynamo's counters dict, once dynamo is loaded


def _dynamo_counters() -> Any:
    utils = sys.modules.get("torch._dynamo.utils")
    if utils is None:
        return None
    _DYNAMO_COUNTERS.append(utils.counters)
    return utils.counters


def dynamo_counter(name: str) -> Counter[str]:
    """One of dynamo's counters, read without adding it: ``counters`` is a defaultdict, and the
    script may print it. Dynamo must be loaded."""
    from torch._dynamo.utils import counters

    found = counters.get(name)
    return found if found is not None else Counter()


def _compiled_wrappers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(p, m) for p, m in model.named_modules() if type(m).__name__ == COMPILED_WRAPPER]


def original_path(path: str) -> str:
    """A path with torch.compile's ``_orig_mod`` steps left out: the path users know."""
    return ".".join(part for part in path.split(".") if part and part != ORIG)


def clock_paths(model: nn.Module) -> dict[int, str]:
    """``id(module) -> path`` of the blocks a block clock times on ``model``: every module with
    its original path, or, once compiled code is in play, the compiled wrappers only."""
    wrappers = _compiled_wrappers(model)
    if wrappers or dynamo_compiled_anything():
        return {id(m): original_path(p) for p, m in wrappers}
    paths: dict[int, str] = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), original_path(path))
    return paths


def clock_hooks(model: nn.Module, pre: Callable[..., Any], post: Callable[..., Any]) -> list[Any]:
    """Hooks for a block clock: global ones on an eager model; per-wrapper ones on a compiled
    model (a global hook added now would recompile the user's graphs); none when code is
    compiled but the model holds no wrapper (``model.compile()`` or a compiled step function
    trace its hooks: any hook added would recompile them)."""
    wrappers = _compiled_wrappers(model)
    if wrappers:
        handles = []
        for _, module in wrappers:
            handles.append(module.register_forward_pre_hook(outside_graphs(pre)))
            handles.append(module.register_forward_hook(outside_graphs(post), always_call=True))
        return handles
    if dynamo_compiled_anything():
        return []
    return [
        module_hooks.register_module_forward_pre_hook(outside_graphs(pre)),
        module_hooks.register_module_forward_hook(outside_graphs(post), always_call=True),
    ]


def quiet_hook_warning() -> Callable[[], None]:
    """Filter torch's warning about netscope's global hooks; returns the undo."""
    warnings.filterwarnings("ignore", message=re.escape(HOOK_WARNING), category=UserWarning)
    added = warnings.filters[0]

    def undo() -> None:
        if added in warnings.filters:
            warnings.filters.remove(added)  # type: ignore[attr-defined]
            mutated = getattr(warnings, "_filters_mutated", None)  # the module's cache, 3.11+
            if mutated is not None:
                mutated()

    return undo


_WRAPPER: list[type] = []  # OptimizedModule, once dynamo is loaded (looked up once)


def _wrapper_class() -> type | None:
    if _WRAPPER:
        return _WRAPPER[0]
    if "torch._dynamo" not in sys.modules:
        return None
    from torch._dynamo.eval_frame import OptimizedModule

    _WRAPPER.append(OptimizedModule)
    return OptimizedModule


def runs_compiled(module: nn.Module) -> bool:
    """A ``torch.compile(module)`` wrapper, or a module compiled in place (``module.compile()``)."""
    if module.__dict__.get("_compiled_call_impl") is not None:
        return True
    # called at every module call: the class once known is read here, not through a call
    wrapper = _WRAPPER[0] if _WRAPPER else _wrapper_class()
    return wrapper is not None and isinstance(module, wrapper)


class GlobalHooks:
    """The watcher's global forward hooks, which step aside while a compiled module runs.

    Any global hook makes dynamo trace ``Module._call_impl``'s hook path (a try block), so a
    user's graph break would compile into other frames than without netscope. When the pre-hook
    sees a compiled module (its own call runs outside dynamo) netscope's entries leave torch's
    hook dicts until that module returns (a hook of the module's own, ``always_call``, puts them
    back and runs the post-hook): dynamo sees the hooks the script has, nothing more.
    """

    def __init__(self, pre: Callable[..., Any], post: Callable[..., Any]) -> None:
        self.pre = pre
        self.post = outside_graphs(post)
        self.handles: list[Any] = []
        self.aside: list[tuple[dict[int, Any], int, Any]] | None = None
        self.holder: nn.Module | None = None
        self.restorers: dict[int, Any] = {}  # id(compiled module) -> its hook's handle
        self.closed = False

    def install(self) -> list[Any]:
        self.handles = [
            module_hooks.register_module_forward_pre_hook(self._pre),
            module_hooks.register_module_forward_hook(
                self.post, with_kwargs=True, always_call=True
            ),
        ]
        return self.handles

    def close(self) -> None:
        """Back to torch's dicts as they were: no entry of netscope's, no hook on a module."""
        self.closed = True
        self.aside = None
        self.holder = None
        for handle in self.restorers.values():
            handle.remove()
        self.restorers.clear()

    def _pre(self, module: nn.Module, args: Any) -> Any:
        if _is_compiling():  # inside a graph (``model.compile()`` runs its hooks there): nothing
            return None
        result = self.pre(module, args)
        if self.aside is None and not self.closed and runs_compiled(module):
            self._step_aside(module)
        return result

    def _step_aside(self, module: nn.Module) -> None:
        entries = []
        for handle in self.handles:
            refs = (handle.hooks_dict_ref, *getattr(handle, "extra_dict_ref", ()))
            for ref in refs:
                hooks = ref()
                if hooks is not None and handle.id in hooks:
                    entries.append((hooks, handle.id, hooks.pop(handle.id)))
        self.aside = entries
        self.holder = module
        if id(module) not in self.restorers:
            self.restorers[id(module)] = module.register_forward_hook(
                self._back, with_kwargs=True, always_call=True
            )

    def _back(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> Any:
        if module is not self.holder or self.aside is None:
            return None
        entries, self.aside, self.holder = self.aside, None, None
        for hooks, key, value in entries:
            hooks[key] = value
        return self.post(module, args, kwargs, output)


never_compiled(outside_graphs(print), GlobalHooks._pre, GlobalHooks._back)
