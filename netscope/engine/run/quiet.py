"""Quiet steps: plain steps of a steady training loop watched through a hook on each root only.

The watcher's global module hooks run at every module call of every step: each call of a block
inside the model leaves torch's fast path (``_call_impl``'s hook path) to run two hooks that only
count the depth. On the benchmark's Lightning MLP that was about 130 of the 230 Python calls
netscope added to a 2,200-call step, and a transformer calls hundreds of blocks a step. A plain
step needs the root calls only (the forward phase, the model's calls per step), so once the loop
is steady its plain steps run with netscope's global entries out of torch's hook dicts (as
``compile_safe.GlobalHooks`` steps them aside for a compiled module) and the same two hooks on
each module the loop has called at the top level instead (the model, or the encoder and the
decoder a ``training_step`` calls); one called inside another is still nested (the depth counts
the hooked modules).

Most quiet steps go further: they are *lean*. A lean step runs no hook of netscope's on any
module, and its patched functions (the DataLoader's ``__next__``, ``backward()``) and optimizer
hooks hand straight on: netscope reads the step's boundary (its time) and, at the pace the
memory reader allows, the memory, and nothing else. A Python-bound step pays for netscope's
calls in proportion to its own (about 120 calls on a 2,200-call Lightning step were +5.6 %), so
on a loop of short steps (under ``LEAN_BELOW_MS``), once ``PHASED_FIRST`` plain steps have had
their phases read, the phases and the model's calls per step are read on 1 quiet step in
``PHASE_EVERY`` (its interval jittered, as the sampled steps' are, so a loop's period does not
alias with it), on the steps before ``QUIET_FROM`` and on the find steps: their medians are
taken over those steps, the step time over every step.

Steps that need every module call keep the global hooks: the counted step (its block-by-block
FLOPs and memory), the first ``QUIET_FROM`` steps (models found as the loop starts, a short run
watched exactly as before), the detectors' steps (they taint the inputs of every root's call),
the block-clock steps, and 1 step in ``FIND_EVERY``, where a model first called later is found.
Quiet steps never start once the script compiled anything (a global hook added or removed then
would recompile its graphs); a compile that starts during quiet steps ends them for good, at the
next boundary.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from torch import nn

from netscope.engine.run.compile_safe import (
    GlobalHooks,
    dynamo_compiled_anything,
    outside_graphs,
    runs_compiled,
)
from netscope.engine.run.sampling import jittered

QUIET_FROM = 20  # steps before this one always run with the global hooks (after the burst)
FIND_EVERY = 300  # 1 step in this many runs with the global hooks: new models are found there
# 1 quiet step in this many (on average) has its phases and calls read: each costs a short
# loop about 4 % of a step with the boundaries that switch its root hooks on and off (at 32, a
# Lightning loop of 4.5 ms steps ran 0.45 % slower than with none)
PHASE_EVERY = 96
PHASE_SEED = 0xFA5E  # their intervals' jitter: the same steps on every run
# steps at least this long (ms) are never lean: the phases' ~100 calls (~50 us) are under 0.3 %
# of them, so a GPU loop's phases come from every plain step
LEAN_BELOW_MS = 20.0
PHASED_FIRST = 16  # plain steps with their phases read before any step is lean


class QuietSteps:
    """Switches the watcher's module hooks between global ones and one pair per root."""

    def __init__(self, hooks: GlobalHooks, pre: Callable[..., Any], post: Callable[..., Any]):
        self.hooks = hooks
        self.pre = outside_graphs(pre)
        self.post = outside_graphs(post)
        self.on = False
        self.lean = False  # on, and not even the roots are hooked
        self.next_phased = QUIET_FROM  # the next quiet step whose phases and calls are read
        self._jitter = random.Random(PHASE_SEED)
        self.ended = False  # the script compiled something: never quiet again
        self._aside: list[tuple[dict[int, Any], int, Any]] = []
        self._handles: list[Any] = []

    def want(self, quiet: bool, roots: Iterable[nn.Module], lean: bool = False) -> None:
        """At a step boundary (no module running): the next step quiet (``lean``: with no
        module hook at all) or not."""
        if quiet and not self.ended and dynamo_compiled_anything():
            self.ended = True
        if quiet and not self.ended:
            if not self.on:
                modules = list(roots)
                if modules and not any(runs_compiled(m) for m in modules):
                    self._start(modules, lean)
            elif lean != self.lean:
                self._hook_roots(list(roots) if not lean else [])
                self.lean = lean
        elif self.on:
            self.stop()

    def phased(self, upcoming: int) -> bool:
        """Whether quiet step ``upcoming`` has its phases and calls read (else it is lean)."""
        if upcoming < self.next_phased:
            return False
        self.next_phased = upcoming + jittered(self._jitter, PHASE_EVERY)
        return True

    def _start(self, modules: list[nn.Module], lean: bool) -> None:
        if self.hooks.aside is not None or self.hooks.closed:  # a compiled module is running
            return
        aside = []
        for handle in self.hooks.handles:
            for ref in (handle.hooks_dict_ref, *getattr(handle, "extra_dict_ref", ())):
                hooks = ref()
                if hooks is not None and handle.id in hooks:
                    aside.append((hooks, handle.id, hooks.pop(handle.id)))
        self._aside = aside
        self._hook_roots([] if lean else modules)
        self.lean = lean
        self.on = True

    def _hook_roots(self, modules: list[nn.Module]) -> None:
        """The pair of hooks on exactly ``modules`` (none: a lean step)."""
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()
        for module in modules:
            self._handles.append(module.register_forward_pre_hook(self.pre))
            self._handles.append(
                module.register_forward_hook(self.post, with_kwargs=True, always_call=True)
            )

    def stop(self) -> None:
        """The global hooks back in torch's dicts, the roots' own hooks removed."""
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()
        aside, self._aside = self._aside, []
        for hooks, key, value in aside:
            hooks[key] = value
        self.on = False
        self.lean = False
