"""FLOPs per block on real models, against torch's FlopCounterMode wherever it counts an op.

FlopCounterMode attributes forward ops by the running modules, as netscope does, so every
block's forward figure must be identical. Its backward attribution (multi-grad hooks) lands
gradients of one block in another (a Llama k_proj gets v_proj's), so the backward is compared
on the model's total and per block against the formulas of the layers themselves.
"""

from __future__ import annotations

import pytest
import torch
from compute_models import IDS, MODELS, build, build_on_meta, snapshot, torch_counts
from torch import nn
from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

from netscope.engine.compute.formulas import causal_fraction

EAGER = ["gpt2", "bert", "llama", "t5", "whisper", "cnn", "lstm"]


def attention_kwarg(name: str) -> str | None:
    return "eager" if name in ("gpt2", "bert", "llama", "t5", "whisper") else None


def flop_counter_modes(name: str, backward: bool) -> dict[str, int]:
    """FlopCounterMode's counts; for the LSTM on meta (it counts the CPU's fused kernel as 0)."""
    model = build(name, attention_kwarg(name))
    kwargs = MODELS[name][1]
    if name == "lstm":
        model, kwargs = model.to("meta"), {k: v.to("meta") for k, v in kwargs.items()}
    return torch_counts(model, kwargs, backward)


@pytest.mark.parametrize("name", EAGER)
def test_every_blocks_forward_flops_equal_flop_counter_modes(name: str) -> None:
    model = build(name, attention_kwarg(name))
    kwargs = MODELS[name][1]
    expected = flop_counter_modes(name, backward=False)
    shot = snapshot(model, kwargs)
    called = [b for b in shot.blocks if b.calls]
    assert called and sum(b.forward_flops or 0 for b in called) > 0
    assert {b.path: b.forward_flops for b in called} == {
        b.path: expected.get(b.path, 0) for b in called
    }
    assert shot.compute is not None
    assert shot.compute.forward_flops == expected[""]


@pytest.mark.parametrize("name", EAGER)
def test_the_models_backward_flops_equal_flop_counter_modes(name: str) -> None:
    forward = flop_counter_modes(name, backward=False)["Global"]
    both = flop_counter_modes(name, backward=True)["Global"]  # the root's misses some
    shot = snapshot(build(name, attention_kwarg(name)), MODELS[name][1])
    assert shot.compute is not None and shot.compute.backward_flops == both - forward
    assert shot.blocks[0].backward_flops == both - forward


def test_causal_attention_is_counted_on_the_cpu_and_labelled() -> None:
    """FlopCounterMode has no formula for the CPU's fused attention: it counts 0 there."""
    eager = snapshot(build("gpt2", "eager"), {"input_ids": IDS})
    fused_model = build("gpt2", "sdpa")
    fused = snapshot(fused_model, {"input_ids": IDS})
    torch_fused = torch_counts(fused_model, {"input_ids": IDS}, backward=False)
    assert fused.compute is not None and eager.compute is not None
    assert fused.compute.attention == "causal" and eager.compute.attention is None
    q = (2, 2, 8, 16)  # batch, heads, tokens, head size
    share = causal_fraction(8, 8)
    assert share == pytest.approx(36 / 64)
    per_layer = round(sdpa_flop_count(q, q, q) * share)
    assert fused.block_by_path["transformer.h.0.attn"].forward_flops == (
        torch_fused["transformer.h.0.attn"] + per_layer
    )
    assert fused.compute.forward_flops == torch_fused[""] + 2 * per_layer
    backward = round(sdpa_backward_flop_count(q, q, q, q) * share)
    attn = fused.block_by_path["transformer.h.0.attn"]
    eager_attn = eager.block_by_path["transformer.h.0.attn"]
    # the projections' backward is the same; eager's two matmuls' backward is replaced
    eager_matmuls_backward = 2 * sdpa_flop_count(q, q, q)  # two matmuls, two gradients each
    assert attn.backward_flops == eager_attn.backward_flops - eager_matmuls_backward + backward


def test_full_attention_is_labelled_full() -> None:
    shot = snapshot(build("bert", "sdpa"), {"input_ids": IDS})
    assert shot.compute is not None and shot.compute.attention == "full"


def test_the_same_counts_on_cpu_and_meta() -> None:
    """The meta device runs SDPA's math path, the CPU its fused kernel: one figure for both."""
    cpu = snapshot(build("llama", "sdpa"), {"input_ids": IDS}, train=True)
    meta_model = build("llama", "sdpa").to("meta")
    meta = snapshot(meta_model, {"input_ids": IDS.to("meta")}, device="meta", train=True)
    assert meta.compute is not None and meta.compute.backward_flops
    rows = [(b.path, b.forward_flops, b.backward_flops) for b in cpu.blocks]
    assert rows == [(b.path, b.forward_flops, b.backward_flops) for b in meta.blocks]
    assert meta.compute.attention == cpu.compute.attention == "causal"  # type: ignore[union-attr]


def test_moe_grouped_mm_is_counted() -> None:
    """Mixtral's grouped experts: 16 tokens x top-2, hidden 32, expert width 64."""
    shot = snapshot(build("mixtral"), {"input_ids": IDS})
    experts = shot.block_by_path["model.layers.0.mlp.experts"]
    routed = 16 * 2
    gate_up, down = 2 * routed * 32 * (2 * 64), 2 * routed * 64 * 32
    assert experts.forward_flops == gate_up + down
    assert experts.backward_flops == 2 * (gate_up + down)  # input and weight gradients
    assert shot.compute is not None
    assert "_grouped_mm" not in {u.op for u in shot.compute.uncounted_ops}


def test_a_float32_mixtral_counts_the_same_on_meta_as_on_the_cpu() -> None:
    """torch's meta kernel of ``_grouped_mm`` takes bfloat16 only; netscope's takes the CPU's
    float32, and the routed rows do not depend on the routing: one figure per block for both."""
    cpu = snapshot(build("mixtral"), {"input_ids": IDS}, train=True)
    meta = snapshot(build_on_meta("mixtral"), {"input_ids": IDS.to("meta")}, device="meta",
                    train=True)  # fmt: skip
    assert meta.forward.ran and meta.forward.backward_ran, meta.forward.note
    rows = [(b.path, b.forward_flops, b.backward_flops) for b in cpu.blocks]
    assert rows == [(b.path, b.forward_flops, b.backward_flops) for b in meta.blocks]
    assert meta.block_by_path["model.layers.0.mlp.experts"].forward_flops == 2 * 32 * 32 * 192


class Cumulative(nn.Module):
    """A matmul, an op with no formula (cumsum) and a profiler marker around them."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.profiler.record_function("user's marker"):
            return self.proj(x).cumsum(0)


def test_ops_without_a_formula_are_listed_by_name_not_counted_as_zero() -> None:
    shot = snapshot(Cumulative(), {"x": torch.randn(3, 4)})
    assert shot.compute is not None
    listed = {u.op: u.count for u in shot.compute.uncounted_ops}
    assert listed["cumsum"] == 2  # the forward and its backward (a reversed cumsum)
    assert "view" not in listed and "t" not in listed  # views and copies are not compute
    assert not [op for op in listed if "record_function" in op]  # markers are not compute


class Frozen(nn.Module):
    """A first layer (no input gradient), a frozen middle layer and a layer called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(4, 8)
        self.frozen = nn.Linear(8, 8).requires_grad_(False)
        self.twice = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.twice(self.twice(self.frozen(self.first(x)))) @ torch.ones(8, 2)


def test_real_backward_ops_not_twice_the_forward() -> None:
    shot = snapshot(Frozen(), {"x": torch.randn(3, 4)})
    blocks = shot.block_by_path
    one = 2 * 3 * 8 * 8  # one 8x8 matmul over 3 rows
    assert blocks["first"].forward_flops == 2 * 3 * 4 * 8
    assert blocks["first"].backward_flops == 2 * 3 * 4 * 8  # weight gradient only
    assert blocks["frozen"].backward_flops == one  # input gradient only
    assert blocks["twice"].forward_flops == 2 * one  # both calls
    assert blocks["twice"].backward_flops == 2 * 2 * one  # weight and input, both calls
    # the root's own `@` belongs to the root, not to a child
    root_own = 2 * 3 * 8 * 2
    children = sum(blocks[n].forward_flops or 0 for n in ("first", "frozen", "twice"))
    assert shot.blocks[0].forward_flops == children + root_own


def test_no_forward_means_not_counted() -> None:
    from netscope.engine.api import snapshot_loaded
    from netscope.engine.load.loaded import LoadedTarget
    from netscope.engine.options import LoadOptions

    shot = snapshot_loaded(LoadedTarget(LoadOptions("m.py"), "m.py", Frozen()))
    assert shot.compute is None and shot.memory is None
    assert all(b.forward_flops is None and b.saved_bytes is None for b in shot.blocks)
