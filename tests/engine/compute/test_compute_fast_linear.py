"""Linear blocks of a 2-D input counted off the dispatch mode, forward and backward (their
backward node runs off the mode, its figures from shapes): exactly the figures the mode gives
when every op runs through it, on first, bias-less, frozen, partly frozen and reused layers."""

from __future__ import annotations

import pytest
import torch
from compute_models import snapshot
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


class Flat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 16)  # its input needs no gradient: no input-gradient mm
        self.no_bias = nn.Linear(16, 16, bias=False)  # mm, not addmm
        self.frozen_weight = nn.Linear(16, 16)
        self.frozen_weight.weight.requires_grad_(False)
        self.frozen_bias = nn.Linear(16, 12)
        self.frozen_bias.bias.requires_grad_(False)
        self.frozen = nn.Linear(12, 16).requires_grad_(False)
        self.twice = nn.Linear(16, 16)  # called twice: two backward nodes
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.no_bias(self.act(self.first(x)))
        h = self.frozen(self.frozen_bias(self.frozen_weight(h)))
        return self.twice(self.act(self.twice(h)))


def figures(shot: object) -> object:
    blocks = [
        (b.path, b.forward_flops, b.backward_flops, b.saved_bytes)
        for b in shot.blocks  # type: ignore[attr-defined]
    ]
    return blocks, shot.compute, shot.memory  # type: ignore[attr-defined]


def test_fast_linear_backward_equals_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    import netscope.engine.compute.fast_linear as counter

    x = torch.randn(6, 8)
    torch.manual_seed(0)
    fast = snapshot(Flat(), {"x": x}, train=True)
    monkeypatch.setattr(counter, "FAST_LINEAR", False)
    torch.manual_seed(0)
    slow = snapshot(Flat(), {"x": x}, train=True)
    assert figures(fast) == figures(slow)
    assert fast.compute is not None and fast.compute.backward_flops
    assert {op.op for op in fast.compute.uncounted_ops} >= {"sum", "gelu"}
    torch.manual_seed(0)
    model = Flat()
    with FlopCounterMode(display=False) as mode:
        model(x).sum().backward()
    total = sum(mode.get_flop_counts()["Global"].values())
    assert fast.compute.forward_flops + fast.compute.backward_flops == total
    by_path = {b.path: b for b in fast.blocks}
    rows = 6
    assert by_path["first"].backward_flops == 2 * rows * 8 * 16  # the weight's gradient only
    assert by_path["frozen"].backward_flops == 2 * rows * 12 * 16  # the input's only
    assert by_path["twice"].backward_flops == 2 * 2 * (2 * rows * 16 * 16)
    assert torch._C._len_torch_dispatch_stack() == 0
