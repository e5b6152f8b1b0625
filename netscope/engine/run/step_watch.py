"""``StepWatch``: the FLOPs, saved activations and memory of one real training step, observed.

Under ``netscope run`` netscope never runs the script's model itself: a forward or backward of
its own through a DDP, FSDP or Lightning wrapper issues collectives on one rank, and any backward
that reaches the real parameters disturbs DDP's reducer (docs/compute.md). Instead, on one step
the watcher puts netscope's counting dispatch mode (``StepCounter``) under the script's own calls
of the main model and its own ``backward``. The mode reads shapes and storages and runs every op
as it came (same kernels, same RNG draws, same collectives), so the run is unchanged. What it
counts is what this rank executes: every micro-batch of the step, a DTensor's local shards.

In a training loop only the calls under grad count (an ``estimate_loss()`` under ``no_grad`` is
not the training step); in an inference loop (no optimizer) the step is one call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.allocations import storage_key, unique_bytes
from netscope.engine.compute.attention import AttentionCalls
from netscope.engine.compute.step import MAX_UNCOUNTED
from netscope.engine.dtypes import dtype_name
from netscope.engine.model import Compute, Memory, OutputInfo, UncountedOp
from netscope.engine.run.step_bytes import RunStepCounter, held_bytes
from netscope.engine.snapshot.blocks import _with_containers
from netscope.engine.snapshot.forward import tensor_leaves

# collectives, FSDP's copies and the profiler's markers the step runs are not math to count
NOT_MATH = ("c10d.", "_c10d_functional.", "fsdp.", "profiler.", "_dtensor.")


@dataclass(frozen=True)
class WatchedFigures:
    """One observed step: the step's totals and, per block path, its inclusive figures."""

    compute: Compute
    memory: Memory
    calls: int  # the main model's counted calls in the step (micro-batches)
    forward: dict[str, int]
    backward: dict[str, int] | None
    saved: dict[str, int] | None
    # per block path, as a model file's example forward gives them: calls per call of the model
    # (blocks called in the step only) and the first call's output tensors
    block_calls: dict[str, int] | None = None
    outputs: dict[str, tuple[OutputInfo, ...]] | None = None


class StepWatch:
    """Counts the script's own step of ``model`` (the module under any wrapper)."""

    def __init__(self, model: nn.Module, device: str, training: bool) -> None:
        self.model = model
        self.device = device
        self.training = training  # count only calls under grad (a training loop)
        self.named = list(model.named_modules(remove_duplicate=False))
        paths: dict[int, str] = {}
        for path, module in self.named:
            paths.setdefault(id(module), path)
        self.paths = paths
        self.children: dict[str, list[str]] = {}
        for path, _ in self.named:
            if path:
                self.children.setdefault(path.rpartition(".")[0], []).append(path)
        self.counter = RunStepCounter(paths)
        self.params = list({id(p): p for p in model.parameters()}.values())
        self.buffers = list(model.buffers())
        self.counter.exclude([*self.params, *self.buffers])
        known = [*self.params, *self.buffers, *_grads(self.params)]
        self.counter.memory.know(known)
        self.start_bytes = unique_bytes(known)
        self.inputs_bytes = 0
        self.active: list[nn.Module] = []
        self.counting: contextlib.ExitStack | None = None
        self.calls = 0
        self.block_calls: dict[int, int] = {}  # calls of each block in the counted forwards
        self.outputs: dict[int, tuple[OutputInfo, ...]] = {}  # each block's first output
        self.backward_ran = False
        self.grads_bytes: int | None = None
        # per block (-1: the model): the most one forward's saved tensors held (micro-batches)
        self.saved_held: dict[int, int] = {}

    # --- the script's own calls ---------------------------------------------------------------
    def forward_begins(self, args: Any, kwargs: Any, member: bool = False) -> None:
        """A root call of the main model (the wrapper's, if any) starts; ``member``: a call of
        one of its blocks after its first in the same call of the model (``self.decoder(z)``
        after ``self.encoder(x)``), whose inputs the step mostly made itself."""
        if self.counting is not None or (self.training and not torch.is_grad_enabled()):
            return
        inputs = [t for _, t in tensor_leaves([args, kwargs])]
        fresh = [t for t in inputs if not self._made_by_step(t)]
        self.counter.memory.know(fresh)
        self.inputs_bytes = max(self.inputs_bytes, held_bytes(fresh))  # a slice: its bytes
        self.calls += 0 if member else 1
        if not member:
            self._called(self.model)
        counter = self.counter
        counter.phase = "forward"
        stack = contextlib.ExitStack()
        stack.enter_context(AttentionCalls(counter))
        stack.enter_context(counter)
        stack.enter_context(counter.saving())
        self.counting = stack
        self.active = [self.model]  # every op of the call is the model's (a wrapper's own too)
        counter.mark(self.active)

    def _made_by_step(self, tensor: torch.Tensor) -> bool:
        """A tensor the counted step allocated (still live): already in its memory."""
        key = storage_key(tensor)
        return key is not None and key[0] in self.counter.memory.live

    def forward_ends(self) -> None:
        stack, self.counting = self.counting, None
        if stack is not None:
            self.active = []
            self.counter.mark(self.active)
            stack.close()

    def block_enters(self, module: nn.Module) -> None:
        if self.counting is not None and id(module) in self.paths:
            if module is not self.model:  # a wrapper's call of it: counted at forward_begins
                self._called(module)
            self.active.append(module)
            self.counter.mark(self.active)

    def block_exits(self, module: nn.Module, output: Any = None) -> None:
        if self.counting is None:
            return
        if output is not None and id(module) not in self.outputs and id(module) in self.paths:
            self.outputs[id(module)] = _output_infos(output)
        if len(self.active) > 1 and self.active[-1] is module:
            self.active.pop()
            self.counter.mark(self.active)

    def _called(self, module: nn.Module) -> None:
        key = id(module)
        self.block_calls[key] = self.block_calls.get(key, 0) + 1

    def backward_begins(self) -> None:
        """The script's ``backward`` after a counted call (its nodes know their blocks)."""
        if not self.calls or self.counting is not None:
            return
        self.counter.phase = "backward"
        stack = contextlib.ExitStack()
        stack.enter_context(self.counter)
        self.counting = stack

    def backward_ends(self) -> None:
        stack, self.counting = self.counting, None
        if stack is None:
            return
        stack.close()
        self.backward_ran = True
        self.grads_bytes = unique_bytes(_grads(self.params))
        self._fold_saved()

    def _fold_saved(self) -> None:
        """A backward freed what its forward saved: the next micro-batch saves anew (its
        storages may take the freed ones' addresses, which the counter would take for tensors it
        already counted), and what the step holds at once is the most one forward saved."""
        counter = self.counter
        held = self.saved_held
        for key, nbytes in counter.saved.items():
            if nbytes > held.get(key, 0):
                held[key] = nbytes
        counter.forget_saved()

    def close(self) -> None:
        """The step ended (or the script did) while a call or backward was open."""
        if self.counting is not None:
            if self.counter.phase == "backward":
                self.backward_ends()
            else:
                self.forward_ends()

    # --- what it saw --------------------------------------------------------------------------
    def figures(self, optimizers: Iterable[Any]) -> WatchedFigures | None:
        """The step's figures; None when no call was counted."""
        self.close()
        if not self.calls:
            return None
        counter = self.counter
        kinds = counter.attention_kinds
        attention = None if not kinds else ("mixed" if len(kinds) > 1 else next(iter(kinds)))
        root = id(self.model)
        backward = self.backward_ran
        compute = Compute(
            forward_flops=counter.forward_flops.get(root, 0),
            backward_flops=counter.backward_flops.get(root, 0) if backward else None,
            attention=attention,  # type: ignore[arg-type]
            uncounted_ops=tuple(
                UncountedOp(op, n)
                for op, n in counter.uncounted.most_common(MAX_UNCOUNTED)
                if not op.startswith(NOT_MATH)
            ),
        )
        return WatchedFigures(
            compute=compute,
            memory=self._memory(list(optimizers)),
            calls=self.calls,
            forward=self._per_path(counter.forward_flops),
            backward=self._per_path(counter.backward_flops) if backward else None,
            saved=self._per_path(self.saved_held) if backward else None,
            block_calls=self._by_path(self._calls_per_model_call()),
            outputs=self._by_path(self.outputs),
        )

    def _by_path(self, by_module: dict[int, Any]) -> dict[str, Any]:
        """Per path, every path of a module reused under two names included."""
        return {path: by_module[id(m)] for path, m in self.named if id(m) in by_module}

    def _calls_per_model_call(self) -> dict[int, int]:
        """Each called block's calls in one call of the model: 2 micro-batches call every block
        twice a step, once a call (a block reused in the forward: twice a call)."""
        calls = self.calls
        return {key: n // calls for key, n in self.block_calls.items() if n % calls == 0}

    def _per_path(self, by_module: dict[int, int]) -> dict[str, int]:
        """Per path, as the snapshot's tree shows it (a ModuleList: its children's sum)."""
        return _with_containers(self.named, self.children, by_module) or {}

    def _memory(self, optimizers: list[Any]) -> Memory:
        counter = self.counter
        state = [t for opt in optimizers for t in _state_tensors(opt)]
        # an optimizer that stepped and holds no tensor (SGD without momentum): 0 bytes, not
        # "no optimizer step"
        optimizer_bytes = unique_bytes(state) if optimizers else None
        peak = self.start_bytes + self.inputs_bytes + (optimizer_bytes or 0)
        peak += counter.memory.peak
        names = sorted({type(opt).__name__.lower() for opt in optimizers})
        return Memory(
            params_bytes=unique_bytes(self.params),
            grads_bytes=self.grads_bytes,
            optimizer_bytes=optimizer_bytes,
            activations_bytes=self.saved_held.get(-1, 0) if self.backward_ran else None,
            peak_bytes=peak,
            peak_at=counter.memory.peak_at or "forward",
            how="measured",
            device=self.device,
            buffers_bytes=unique_bytes(self.buffers),
            optimizer=", ".join(names) or None,
            note=(
                "the script's own step, observed: parameters, buffers, optimizer state and the "
                "inputs held, plus what its forward and backward allocated at their highest"
                + (" (this rank's local shards)" if _sharded(self.params) else "")
            ),
        )


def _output_infos(output: Any) -> tuple[OutputInfo, ...]:
    """A block's output tensors by label and shape (shapes read with torch functions off: the
    step's attention mode would see them)."""
    with torch._C.DisableTorchFunction():
        leaves = (("", output),) if type(output) is torch.Tensor else tensor_leaves(output)
        return tuple(OutputInfo(label, tuple(t.shape), dtype_name(t.dtype)) for label, t in leaves)


def _grads(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [p.grad for p in params if p.grad is not None]


def _state_tensors(optimizer: Any) -> list[torch.Tensor]:
    """The optimizer's state tensors (Adam's moments, momentum buffers), read, never changed."""
    found: list[torch.Tensor] = []
    for per_param in getattr(optimizer, "state", {}).values():
        if isinstance(per_param, dict):
            found += [v for v in per_param.values() if isinstance(v, torch.Tensor)]
    return found


def _sharded(params: Sequence[torch.Tensor]) -> bool:
    return any(hasattr(p, "_local_tensor") for p in params)
