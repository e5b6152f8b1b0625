"""``netscope.inspect`` and ``netscope.open``: an in-memory model through the engine's own front
door (engine/api.py ``snapshot_loaded``), the figures ``netscope report`` gives for a model file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from netscope.engine.api import snapshot_loaded
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import Snapshot
from netscope.engine.options import ProfileOptions
from netscope.python_api.guard import kept_as_found
from netscope.python_api.report import Report
from netscope.python_api.target import Asked, LossFn, OptimizerArg, StepFn, loaded_target

NO_INPUT_NOTE = (
    "No example input: pass the forward's arguments, netscope.inspect(model, x), or "
    "input_size=(2, 3, 224, 224), to see calls, output shapes, FLOPs, memory and gradients"
)


def inspect(
    model: nn.Module,
    *args: Any,
    train: bool = False,
    optimizer: OptimizerArg = None,
    precision: str | None = None,
    fit: str | None = None,
    device: str | torch.device | None = None,
    profile: bool | ProfileOptions = False,
    input_size: tuple[int, ...] | None = None,
    loss: LossFn | None = None,
    step: StepFn | None = None,
    shard: str | None = None,
    shard_units: str | None = None,
    tp: int = 1,
    checkpoint: str = "none",
    memory_budget: int | str | None = None,
    tp_plan: Mapping[str, str] | Callable[[nn.Module], Any] | None = None,
    **kwargs: Any,
) -> Report:
    """Report on ``model`` called as ``model(*args, **kwargs)`` (or on a random float batch of
    ``input_size``): the figures of ``netscope report``, and the model left as it was found.

    ``train``: the step is forward + loss + backward + ``optimizer``'s update (a name such as
    ``"adamw"``, a torch optimizer, whose class and settings are used on netscope's own copy,
    or ``optimizer(model)``); ``precision``: ``"bf16"``, ``"bf16-mixed"``...; ``fit``:
    ``"H100"``, ``"8xH100"``; ``device``: where the step runs (a copy is placed there);
    ``profile``: time the step in netscope's worker process (True, or ProfileOptions);
    ``loss(output, batch)`` and ``step(model, batch)`` as a model file defines them (``batch``:
    the forward's arguments, one value when there is one); ``shard``, ``shard_units``, ``tp``,
    ``checkpoint``, ``memory_budget``: the plan's layout (the CLI's ``--shard``... options);
    ``tp_plan``: ``{path glob: "colwise" | "rowwise"}`` for ``tp`` (a model file's tp_plan()).
    """
    asked = Asked(
        train, optimizer, precision, fit, device, input_size,
        loss, step, shard, shard_units, tp, checkpoint, memory_budget, tp_plan,
    )  # fmt: skip
    # the CLI's process runs the step with autograd on: so does inspect, called under no_grad()
    # or inference_mode() too (the caller's modes come back when the block ends)
    with kept_as_found(model), torch.inference_mode(False), torch.enable_grad():
        loaded = loaded_target(model, args, kwargs, asked)
        snapshot = _snapshot(loaded)
        measured = None
        if profile is not False:
            from netscope.python_api.profile import profile_in_worker

            options = profile if isinstance(profile, ProfileOptions) else ProfileOptions()
            measured = profile_in_worker(loaded, options)  # FLOP/s and MFU added by the worker
    return Report(snapshot, measured)


def _snapshot(loaded: LoadedTarget) -> Snapshot:
    snapshot = snapshot_loaded(loaded)
    if loaded.example_input is None and snapshot.kind == "model":
        snapshot = replace(snapshot, forward=replace(snapshot.forward, note=NO_INPUT_NOTE))
    return snapshot


def open(model: nn.Module, *args: Any, **kwargs: Any) -> int:
    """The app on ``model`` (``inspect``'s arguments); returns its exit status when the user
    quits (0, or 130 after Ctrl+C)."""
    return inspect(model, *args, **kwargs).open()
