"""``ComputePass``: the counters set up around the snapshot's example forward and backward, and
what they found as the data model's ``Compute`` and ``Memory``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.allocations import storage_keys, unique_bytes
from netscope.engine.compute.attention import AttentionCalls
from netscope.engine.compute.counter import StepCounter
from netscope.engine.compute.optimizer import OptimizerReplay, replay
from netscope.engine.load.device import device_label
from netscope.engine.model import Compute, Memory, UncountedOp
from netscope.engine.nested import tensors_in

MAX_UNCOUNTED = 40


@dataclass(frozen=True)
class BlockCompute:
    """Per block (``id(module)``): inclusive FLOPs and saved bytes; None where not counted."""

    forward: dict[int, int]
    backward: dict[int, int] | None
    saved: dict[int, int] | None


def with_optimizer(
    peak: int, peak_at: str, live_after_backward: int, replayed: OptimizerReplay
) -> tuple[int, str]:
    """The step's peak from its second run on: the optimizer's state is live throughout, and
    ``optimizer.step()`` adds its temporaries to what the backward left."""
    peak += replayed.state_bytes
    at_step = live_after_backward + replayed.peak_bytes
    return (at_step, "optimizer.step()") if at_step > peak else (peak, peak_at)


class ComputePass:
    """Counts FLOPs, saved activations and allocations of the snapshot's own step."""

    def __init__(
        self,
        model: nn.Module,
        paths: dict[int, str],
        device: torch.device,
        params: list[nn.Parameter] | None = None,
        buffers: list[torch.Tensor] | None = None,
    ) -> None:
        """``params``, ``buffers``: the model's, each once, if the caller has them."""
        self.model = model
        self.device = device
        self.counter = StepCounter(paths)
        if params is None:
            params = list({id(p): p for p in model.parameters()}.values())
        self.params = params
        self.buffers = list(model.buffers()) if buffers is None else buffers
        # parameters and buffers: never saved activations nor allocations of the step; their
        # bytes are what was there before it (a lazy parameter made by the forward is an
        # allocation of the step, counted by the tracker, not again here). One storage read
        # each: 20,000 Linear blocks hold 40,000 parameters.
        held = storage_keys([*self.params, *self.buffers])
        self.counter.excluded.update(held)
        self.counter.memory.known.update(held)
        self.start_bytes = sum(held.values())
        self.with_grad = False
        self.inputs_bytes = 0
        self.cuda_peak: int | None = None
        self.cuda_start: int | None = None
        self.after_backward = 0
        self.grads_bytes: int | None = None
        self.trained: list[nn.Parameter] = []  # the parameters the backward gave a gradient

    @contextlib.contextmanager
    def forward(self, with_grad: bool) -> Iterator[None]:
        """Around the example forward."""
        self.with_grad = with_grad
        self._cuda_reset()
        saving = self.counter.saving() if with_grad else contextlib.nullcontext()
        with AttentionCalls(self.counter), self.counter, saving:
            yield

    def inputs(self, call: Any) -> None:
        tensors = tensors_in((getattr(call, "args", ()), getattr(call, "kwargs", {})))
        self.counter.memory.know(tensors)
        self.inputs_bytes = unique_bytes(tensors)

    @contextlib.contextmanager
    def backward(self) -> Iterator[None]:
        self.counter.phase = "backward"
        try:
            with self.counter:
                yield
        finally:
            self.after_backward = self.counter.memory.current
            self.counter.memory.stop()
            self._cuda_read()

    def _cuda_reset(self) -> None:
        if self.device.type != "cuda" or not torch.cuda.is_available():
            return
        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self.cuda_start = torch.cuda.memory_allocated(self.device)

    def _cuda_read(self) -> None:
        if self.cuda_start is None or not torch.cuda.is_available():
            return
        torch.cuda.synchronize(self.device)
        self.cuda_peak = torch.cuda.max_memory_allocated(self.device)

    def note_grads(self, backward_ran: bool) -> None:
        """Before the snapshot puts the user's ``.grad`` back: the memory pass runs after it."""
        if backward_ran:
            grads = [p.grad for p in self.params]  # a property: read once (40,000 on 20,000 blocks)
            self.grads_bytes = unique_bytes(g for g in grads if g is not None)
            self.trained = [
                p
                for p, g in zip(self.params, grads, strict=True)
                if g is not None and p.requires_grad
            ]

    def blocks(self, forward_ran: bool, backward_ran: bool) -> BlockCompute | None:
        if not forward_ran:
            return None
        counter = self.counter
        return BlockCompute(
            forward=dict(counter.forward_flops),
            backward=dict(counter.backward_flops) if backward_ran else None,
            saved=dict(counter.saved) if self.with_grad else None,
        )

    def compute(self, backward_ran: bool) -> Compute:
        counter = self.counter
        kinds = counter.attention_kinds
        attention = None if not kinds else ("mixed" if len(kinds) > 1 else next(iter(kinds)))
        uncounted = tuple(
            UncountedOp(op, n) for op, n in counter.uncounted.most_common(MAX_UNCOUNTED)
        )
        root = id(self.model)
        return Compute(
            forward_flops=counter.forward_flops.get(root, 0),
            backward_flops=counter.backward_flops.get(root, 0) if backward_ran else None,
            attention=attention,  # type: ignore[arg-type]
            uncounted_ops=uncounted,
        )

    def memory(self, train: bool, optimizer: str, user_optimizer: Any) -> Memory:
        """The step's memory; with ``train`` the optimizer step is replayed on meta twins."""
        counter = self.counter
        params_bytes = unique_bytes(self.params)
        buffers_bytes = unique_bytes(self.buffers)
        baseline = self.start_bytes + self.inputs_bytes
        peak = baseline + counter.memory.peak
        peak_at = counter.memory.peak_at or "forward"
        notes = []
        if self.cuda_peak is not None:
            peak = self.cuda_peak
            notes.append("forward and backward peak: torch.cuda.max_memory_allocated")
        replayed: OptimizerReplay | None = None
        if train and self.grads_bytes is not None:
            like_cuda = self.device.type in ("cuda", "meta")
            replayed = replay(self.model, optimizer, user_optimizer, like_cuda, self.trained)
        if replayed is not None:
            peak, peak_at = with_optimizer(peak, peak_at, baseline + self.after_backward, replayed)
            notes.append(
                f"optimizer.step() ({replayed.name}) replayed on meta copies: weights unchanged"
            )
        return Memory(
            params_bytes=params_bytes,
            grads_bytes=self.grads_bytes,
            optimizer_bytes=replayed.state_bytes if replayed is not None else None,
            activations_bytes=counter.saved.get(-1, 0) if self.with_grad else None,
            peak_bytes=peak,
            peak_at=peak_at,
            how="estimated" if self.device.type == "meta" else "measured",
            device=device_label(self.device),
            buffers_bytes=buffers_bytes,
            optimizer=replayed.name if replayed is not None else None,
            note="; ".join(notes),
        )
