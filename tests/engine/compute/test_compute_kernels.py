"""FLOPs of kernels torch's FlopCounterMode misses or miscounts: fused recurrent layers (counted as
their matrix products, equal on the CPU and meta), grouped and depthwise convolutions' weight
gradients (divided by groups), and attention called with keyword arguments."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from compute_models import snapshot
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count


class Recurrent(nn.Module):
    def __init__(self, cls: type[nn.Module], **options: object) -> None:
        super().__init__()
        self.rnn = cls(8, 16, batch_first=True, **options)
        width = int(options.get("proj_size", 0) or 16) * (2 if options.get("bidirectional") else 1)  # type: ignore[call-overload]
        self.head = nn.Linear(width, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


CASES = [
    (nn.LSTM, {}),
    (nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (nn.LSTM, {"num_layers": 2, "proj_size": 8}),
    (nn.GRU, {"num_layers": 2}),
    (nn.GRU, {"bidirectional": True}),
    (nn.RNN, {"num_layers": 2, "nonlinearity": "relu"}),
]


def rows(shot: object) -> list[tuple[str, int | None, int | None]]:
    return [(b.path, b.forward_flops, b.backward_flops) for b in shot.blocks]  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize(("cls", "options"), CASES)
def test_recurrent_layers_count_their_matmuls_equal_on_cpu_and_meta(
    cls: type[nn.Module], options: dict
) -> None:
    x = torch.randn(2, 5, 8)
    torch.manual_seed(0)
    cpu = snapshot(Recurrent(cls, **options), {"x": x}, train=True)
    meta = snapshot(
        Recurrent(cls, **options).to("meta"), {"x": x.to("meta")}, device="meta", train=True
    )
    assert rows(cpu) == rows(meta)
    # FlopCounterMode on meta counts the math path's matmuls: the same step's total
    twin = Recurrent(cls, **options).to("meta")
    with FlopCounterMode(display=False) as mode:
        twin(x.to("meta")).float().mean().backward()
    assert cpu.compute is not None and cpu.compute.backward_flops is not None
    total = cpu.compute.forward_flops + cpu.compute.backward_flops
    assert total == sum(mode.get_flop_counts()["Global"].values())
    listed = {u.op for u in cpu.compute.uncounted_ops}
    assert not {op for op in listed if "rnn" in op}


def test_one_lstm_layer_by_hand() -> None:
    """2 x 10 rows x 4·16 gates x (8 inputs + 16 hidden) forward; backward: both weight
    gradients, no input gradient (x needs none), the hidden one at 4 of 5 steps."""
    shot = snapshot(Recurrent(nn.LSTM), {"x": torch.randn(2, 5, 8)})
    lstm = shot.block_by_path["rnn"]
    assert lstm.forward_flops == 2 * 10 * 64 * (8 + 16)
    assert lstm.backward_flops == 2 * 10 * 64 * 8 + 2 * 10 * 64 * 16 + 2 * 8 * 64 * 16


class Separable(nn.Module):
    """A pointwise conv, a depthwise one (groups = channels) and a grouped one (groups 4)."""

    def __init__(self) -> None:
        super().__init__()
        self.pointwise = nn.Conv2d(4, 16, 1)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.grouped = nn.Conv2d(16, 32, 3, groups=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.grouped(self.depthwise(self.pointwise(x)))


def test_grouped_and_depthwise_weight_gradients_by_hand() -> None:
    shot = snapshot(Separable(), {"x": torch.randn(2, 4, 8, 8)})
    blocks = shot.block_by_path
    depthwise = 2 * 2 * 64 * 9 * 16  # batch, 8x8 outputs, 3x3 taps, one input channel each
    grouped = 2 * 2 * 36 * 9 * 32 * 4  # 6x6 outputs, 32 outputs of 4 input channels each
    assert blocks["depthwise"].forward_flops == depthwise
    assert blocks["depthwise"].backward_flops == 2 * depthwise  # input and weight gradients
    assert blocks["grouped"].forward_flops == grouped
    assert blocks["grouped"].backward_flops == 2 * grouped
    assert blocks["pointwise"].backward_flops == blocks["pointwise"].forward_flops  # weight only


class KeywordAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).view(2, 6, 3, 2, 8).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(query=q, key=k, value=v, is_causal=False)
        return out.sum(1)


def test_attention_called_with_keywords_is_counted() -> None:
    shot = snapshot(KeywordAttention(), {"x": torch.randn(2, 6, 16)})
    assert shot.compute is not None and shot.compute.attention == "full"
    shape = (2, 2, 6, 8)
    qkv = 2 * 12 * 16 * 48
    assert shot.compute.forward_flops == qkv + sdpa_flop_count(shape, shape, shape)


class Layers(nn.Module):
    """Linear blocks on a 3-D input, a transposed (non-contiguous) one and under autocast."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 8)
        self.second = nn.Linear(6, 4, bias=False)
        self.third = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.second(self.first(x).transpose(1, 2))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.third(y).float()


def test_linear_blocks_counted_off_the_dispatch_stack_equal_flop_counter_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Linear blocks run off the counting mode where shapes alone give the figures: the
    FLOPs, saved activations and the peak are the ones the mode gave."""
    import netscope.engine.compute.fast_linear as counter

    x = torch.randn(2, 6, 8)
    fast = snapshot(Layers(), {"x": x}, train=True)
    monkeypatch.setattr(counter, "FAST_LINEAR", False)
    slow = snapshot(Layers(), {"x": x}, train=True)
    assert rows(fast) == rows(slow)
    assert fast.memory == slow.memory
    with FlopCounterMode(display=False) as mode:
        Layers()(x)
    assert fast.compute is not None
    assert fast.compute.forward_flops == sum(mode.get_flop_counts()["Global"].values())


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x[:, :3].contiguous())  # wrong width: the Linear's own op raises


def test_a_forward_raising_inside_a_linear_leaves_no_mode_behind() -> None:
    from netscope.engine.errors import NetscopeError

    with pytest.raises(NetscopeError, match="mat1 and mat2"):
        snapshot(Raises(), {"x": torch.randn(2, 4)})
    assert torch._C._len_torch_dispatch_stack() == 0
    assert torch._C._len_torch_function_stack() == 0
