"""The unit the profiler measures: one step of the model on one device, as a no-argument callable.

netscope moves the model and the batch to the device (the user's code does not). The step is the
file's ``step(model, batch)`` when it has one; else the forward of ``example_input()`` in eval mode
without grad; with ``--train`` forward + loss + backward + an SGD update. The training step
updates the weights of the worker's own copy of the model (the worker loaded it and throws it away
afterwards), so nothing the user owns changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.loss import step_loss
from netscope.engine.compute.mfu import autocast_dtype
from netscope.engine.compute.optimizer import make_optimizer
from netscope.engine.errors import NetscopeError
from netscope.engine.load.example import batch_of
from netscope.engine.load.loaded import ExampleInput
from netscope.engine.modes import training_flags_kept
from netscope.engine.profiler import standin

STEP_USER = "step(model, batch)"
STEP_FORWARD = "forward (eval, no grad)"
STEP_TRAIN = "train step (forward + loss + backward + SGD)"


@dataclass
class StepSeen:
    """What one run of the step did: a backward (gradients reached the model's weights), and
    the dtype autocast ran the model's forward in (None: off)."""

    backward: bool = False
    autocast: str | None = None


@dataclass
class Step:
    """A prepared step: ``run()`` does one step; ``model`` and ``batch`` live on ``device``.
    ``seen``: what the step does, filled by its first run."""

    run: Callable[[], Any]
    model: nn.Module
    batch: Any
    device: torch.device
    description: str
    seen: StepSeen = field(default_factory=StepSeen)


def _watched(run: Callable[[], Any], model: nn.Module, seen: StepSeen) -> Callable[[], Any]:
    """``run`` whose first call fills ``seen`` (a file's step() may or may not train, and may
    autocast); later calls run it bare."""
    first = [True]

    def see_autocast(module: nn.Module, _args: Any) -> None:
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        seen.autocast = seen.autocast or autocast_dtype(str(device))

    def see_backward(_param: torch.Tensor) -> None:
        seen.backward = True

    def watched() -> Any:
        if not first[0]:
            return run()
        first[0] = False
        handles = [model.register_forward_pre_hook(see_autocast)]
        handles += [
            p.register_post_accumulate_grad_hook(see_backward)
            for p in model.parameters()
            if p.requires_grad
        ]
        try:
            return run()
        finally:
            for handle in handles:
                handle.remove()

    return watched


def _move_model(model: nn.Module, device: torch.device, stack: ExitStack) -> None:
    """Put the model on ``device``; on the stand-in GPU, only until ``stack`` closes."""
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        raise NetscopeError(
            f"cannot profile on {device}: the model's weights are on the meta device (no data)",
            hint="Load it with --device cpu (the default).",
        )
    if standin.is_standin(device):
        stack.enter_context(standin.emulation())
        stack.enter_context(standin.placed_on_standin(model))
    else:
        model.to(device)


@contextmanager
def prepared_step(
    model: nn.Module,
    example: ExampleInput | None,
    device: str | torch.device,
    *,
    step_fn: Callable[[nn.Module, Any], Any] | None = None,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    train: bool = False,
    optimizer: str = "sgd",
    optimizer_fn: Callable[[nn.Module], Any] | None = None,
) -> Iterator[Step]:
    """Move model and batch to ``device``, yield the step; every training flag is restored after."""
    device = torch.device(device)
    if example is None and step_fn is None:
        raise NetscopeError(
            "nothing to profile: the model file has no example_input() and no step(model, batch)",
            hint="Add example_input() to the model file, or pass --input-shape 1,3,224,224.",
        )
    with ExitStack() as stack:
        stack.enter_context(training_flags_kept(model))
        _move_model(model, device, stack)
        moved = example.to(device) if example is not None else ExampleInput()
        batch = batch_of(moved) if example is not None else None
        if step_fn is not None:
            seen = StepSeen()
            run = _watched(lambda: step_fn(model, batch), model, seen)
            yield Step(run, model, batch, device, STEP_USER, seen)
        elif train:
            model.train()
            train_step, label = _train_step(model, moved, batch, loss_fn, optimizer, optimizer_fn)
            yield Step(train_step, model, batch, device, label, StepSeen(backward=True))
        else:
            model.eval()

            def forward() -> Any:
                with torch.no_grad():
                    return moved.call(model)

            yield Step(forward, model, batch, device, STEP_FORWARD)


def _train_step(
    model: nn.Module,
    example: ExampleInput,
    batch: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None,
    name: str = "sgd",
    optimizer_fn: Callable[[nn.Module], Any] | None = None,
) -> tuple[Callable[[], Any], str]:
    """The step and its description: ``--optimizer``'s update, or the file's optimizer(model)."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer: Any = None
    label = STEP_TRAIN
    if optimizer_fn is not None:
        optimizer = optimizer_fn(model)
        label = STEP_TRAIN.replace("SGD", f"{type(optimizer).__name__} from optimizer(model)")
    elif params and name == "sgd":
        optimizer = torch.optim.SGD(params, lr=1e-4)
    elif params:
        optimizer = make_optimizer(name, params, None)
        label = STEP_TRAIN.replace("SGD", name)

    def train_step() -> Any:
        output = example.call(model)
        loss = step_loss(output, batch, loss_fn, no_floating_output="raise")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return loss

    return train_step, label
