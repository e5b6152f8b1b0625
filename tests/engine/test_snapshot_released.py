"""The snapshot lets the example step's output (and with it the autograd graph, a node per op
with netscope's hooks on them) go before the statistics run, and the outputs' copies kept for
activation statistics go once those are read: both lower the peak memory of a large model's
report (20,000 tiny blocks: ~25 MiB), and neither changes a figure."""

from __future__ import annotations

import inspect
import weakref
from typing import Any

import pytest
import torch
from core_helpers import write_model

import netscope.engine.snapshot.blocks as blocks
import netscope.engine.snapshot.build as build
from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions

MODEL = """
    import torch
    from torch import nn

    def build_model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    def example_input():
        return torch.randn(3, 4)
"""


@pytest.mark.parametrize("backward", [True, False])
def test_output_and_copies_released(tmp_path: Any, monkeypatch: Any, backward: bool) -> None:
    path = write_model(tmp_path, "model.py", MODEL)
    outputs: list[weakref.ref[torch.Tensor]] = []
    alive_at_stats: list[bool] = []
    copies_left: list[int] = []

    def keep_output(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
        outputs.append(weakref.ref(output))  # the outermost block ends last: the model's output

    real_stats = build.tensor_stats
    real_build_blocks = blocks.build_blocks

    def tensor_stats(tensors: Any) -> Any:
        if not alive_at_stats:
            alive_at_stats.append(outputs[-1]() is not None)
        return real_stats(tensors)

    def build_blocks(*args: Any, **kwargs: Any) -> Any:
        record = inspect.signature(real_build_blocks).bind(*args, **kwargs).arguments["record"]
        result = real_build_blocks(*args, **kwargs)
        if record is not None:
            copies_left.append(len(record.activations))
        return result

    monkeypatch.setattr(build, "tensor_stats", tensor_stats)
    monkeypatch.setattr(build, "build_blocks", build_blocks)
    handle = torch.nn.modules.module.register_module_forward_hook(keep_output)
    try:
        snapshot = take_snapshot(LoadOptions(path, backward=backward))
    finally:
        handle.remove()
    assert snapshot.forward.ran and snapshot.forward.backward_ran is backward
    assert alive_at_stats == [False]  # the model's output (and its graph) went before
    assert copies_left == [0]
    assert all(b.activation is not None for b in snapshot.blocks if b.path)
