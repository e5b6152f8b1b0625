"""A loaded target: the live objects the snapshot and the profiler work on (never serialized)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from netscope.engine.model import CheckpointDiff
from netscope.engine.nested import map_tensors
from netscope.engine.options import LoadOptions


@dataclass
class ExampleInput:
    """Positional and keyword arguments for ``model(*args, **kwargs)``."""

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # "example_input()", "--input-shape 1,20"
    from_list: bool = False  # example_input() returned a list, spread as positional arguments
    location: str | None = None  # "model.py:LINE" of example_input()

    def to(self, device: torch.device | str) -> ExampleInput:
        """A copy with every tensor (also nested in lists, tuples, dicts) moved to ``device``."""

        def move(tensor: torch.Tensor) -> torch.Tensor:
            return tensor.to(device)

        return replace(
            self, args=map_tensors(move, self.args), kwargs=map_tensors(move, self.kwargs)
        )

    def call(self, model: nn.Module) -> Any:
        return model(*self.args, **self.kwargs)


@dataclass
class LoadedTarget:
    """What ``load_target`` returns: a model (or a checkpoint alone) and the file's helpers."""

    options: LoadOptions
    path: str  # the model file or checkpoint, as the user named it
    model: nn.Module | None  # None for a checkpoint alone
    example_input: ExampleInput | None = None
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None  # loss(output, batch)
    step_fn: Callable[[nn.Module, Any], Any] | None = None  # step(model, batch)
    optimizer_fn: Callable[[nn.Module], Any] | None = None  # optimizer(model), for --train
    shard_units_fn: Callable[[nn.Module], Any] | None = None  # shard_units(model): FSDP units
    tp_plan_fn: Callable[[nn.Module], Any] | None = None  # tp_plan(model): {path: style}
    state_dict: Mapping[str, torch.Tensor] | None = None  # a checkpoint alone, or --weights
    checkpoint_diff: CheckpointDiff | None = None
    source: str | None = None  # "model.py:LINE" of the factory or class
    lazy_at_build: frozenset[str] = frozenset()  # lazy parameter and buffer names
    checkpoint_label: str = ""  # a checkpoint alone: "LORA adapter"; "" for a state_dict
    checkpoint_notes: tuple[str, ...] = ()  # a checkpoint alone: "one shard of 4", "no config"
