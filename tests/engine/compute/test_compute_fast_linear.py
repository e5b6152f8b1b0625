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


class Residual(nn.Module):
    """A Linear's input saved by a block before it (one storage, counted once, by the first)
    and a 3-D input (its node is a view's: the hooks' own path)."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU()  # saves its output
        self.inner = nn.Linear(16, 16)
        self.wide = nn.Linear(16, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(x)
        h = h + self.inner(h)  # ReLU's output: saved by act first, not counted again in inner
        return self.wide(h.reshape(2, 3, 16)).reshape(6, 8)


def test_fast_linear_saved_activations_equal_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a fast Linear of a 2-D input the counter's saved-tensor hooks are off and its
    saved input is counted from the node's kind: every block's saved bytes stay the mode's."""
    import netscope.engine.compute.fast_linear as counter

    x = torch.randn(6, 16, requires_grad=True)
    torch.manual_seed(0)
    fast = snapshot(Residual(), {"x": x}, train=True)
    monkeypatch.setattr(counter, "FAST_LINEAR", False)
    torch.manual_seed(0)
    slow = snapshot(Residual(), {"x": x}, train=True)
    assert figures(fast) == figures(slow)
    by_path = {b.path: b for b in fast.blocks}
    assert by_path["inner"].saved_bytes == 0  # its input is act's output, saved there
    assert by_path["wide"].saved_bytes and fast.memory and fast.memory.activations_bytes


class Mismatched(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 8)
        self.second = nn.Linear(5, 8)  # takes 5 features, is given 8: raises inside the leaf

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


def test_a_linear_that_raises_leaves_no_mode_or_saved_hooks_behind() -> None:
    from netscope.engine.errors import NetscopeError

    with pytest.raises(NetscopeError, match="second"):
        snapshot(Mismatched(), {"x": torch.randn(4, 8)}, train=True)
    assert torch._C._len_torch_dispatch_stack() == 0
    assert torch._C._len_torch_function_stack() == 0
    assert torch._C._autograd._top_saved_tensors_default_hooks(False) is None
    model = Mismatched()
    model.second = nn.Linear(8, 8)
    shot = snapshot(model, {"x": torch.randn(4, 8)}, train=True)  # the next step counts as ever
    assert shot.memory is not None and shot.memory.activations_bytes


class Attention(nn.Module):
    """Linear projections around SDPA: the attention call is counted whole after them."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)
        self.out = nn.Linear(16, 16)
        self.modes_inside: list[list[str]] = []
        self.qkv.register_forward_pre_hook(self._modes)  # runs inside the leaf, after netscope's

    def _modes(self, _module: nn.Module, _inputs: object) -> None:
        depth = torch._C._len_torch_function_stack()
        stack = [type(torch._C._get_function_stack_at(i)).__name__ for i in range(depth)]
        self.modes_inside.append(stack)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).view(2, 3, 3, 2, 8).permute(2, 0, 3, 1, 4)
        y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(6, 16))


def test_a_fast_linear_runs_with_attention_calls_aside_and_attention_is_still_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside a fast Linear the counter's AttentionCalls (a torch function mode) is off torch's
    stack, back after it: the SDPA call after the projection is counted as with every op
    through the modes, and no mode is left behind."""
    import netscope.engine.compute.fast_linear as counter

    x = torch.randn(6, 16)
    torch.manual_seed(0)
    model = Attention()
    fast = snapshot(model, {"x": x}, train=True)
    assert model.modes_inside == [[]]  # neither WeightUse nor AttentionCalls inside the leaf
    assert torch._C._len_torch_function_stack() == 0
    monkeypatch.setattr(counter, "FAST_LINEAR", False)
    torch.manual_seed(0)
    slow_model = Attention()
    slow = snapshot(slow_model, {"x": x}, train=True)
    assert slow_model.modes_inside == [["AttentionCalls"]]  # the slow path keeps it on
    assert figures(fast) == figures(slow)
    assert fast.compute is not None and fast.compute.attention == "causal"
