"""Meta kernels netscope supplies where torch's meta registration refuses what the real kernels
run: ``_grouped_mm`` in float32 (a float32 Mixtral's experts) gets the CPU kernel's shapes."""

from __future__ import annotations

import pytest
import torch

from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.lightmeta import light_meta_forward

OFFS = torch.tensor([3, 10, 16], dtype=torch.int32)  # 3 experts, 16 routed tokens, uneven
CASES = {  # operand shapes (16-byte strides, as the CPU kernel asks) and offsets
    "tokens x experts' weights (forward)": ((16, 8), (3, 8, 16), OFFS),
    "a weight gradient (2-D x 2-D)": ((8, 16), (16, 8), OFFS),
    "grouped x a 2-D right operand": ((3, 8, 8), (8, 48), torch.tensor([16, 32, 48])),
    "batched (3-D x 3-D)": ((3, 8, 8), (3, 8, 16), None),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_grouped_mm_on_meta_has_the_cpu_kernels_shape(case: str, dtype: torch.dtype) -> None:
    a_shape, b_shape, offs = CASES[case]
    a, b = torch.randn(a_shape, dtype=dtype), torch.randn(b_shape, dtype=dtype)
    offs = None if offs is None else offs.int()
    real = torch._grouped_mm(a, b, offs=offs)
    meta_offs = None if offs is None else offs.to("meta")
    with light_meta_forward():
        on_meta = torch._grouped_mm(a.to("meta"), b.to("meta"), offs=meta_offs)
    assert on_meta.device.type == "meta"
    assert (on_meta.shape, on_meta.dtype) == (real.shape, real.dtype)


def test_torch_alone_still_refuses_float32_on_meta() -> None:
    """The reason the kernel exists: when torch's meta function accepts float32, drop it."""
    a, b = torch.empty(16, 8, device="meta"), torch.empty(3, 8, 16, device="meta")
    with pytest.raises(RuntimeError, match="BF16"):
        torch._grouped_mm(a, b, offs=OFFS.to("meta"))


MIXTRAL_FILE = """
import torch
import transformers as T

def build_model():
    config = T.MixtralConfig(num_hidden_layers=2, num_key_value_heads=1, num_local_experts=4,
                             num_experts_per_tok=2, hidden_size=32, num_attention_heads=2,
                             intermediate_size=64, vocab_size=100)
    return T.MixtralForCausalLM(config)

def example_input():
    return {"input_ids": torch.zeros(2, 8, dtype=torch.long)}
"""


def test_a_float32_mixtral_on_meta_is_planned_under_fsdp(tmp_path, monkeypatch) -> None:
    """The plan replays the step on fake tensors, whose shapes come from the same meta
    functions: the float32 experts' grouped matmuls get netscope's kernel there too."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "mixtral_file.py"
    path.write_text(MIXTRAL_FILE)
    options = LoadOptions(str(path), device="meta", train=True, fit="2xH100", shard="fsdp")
    fit = take_snapshot(options).fit
    assert fit is not None and fit.per_device is not None, fit
    assert fit.fits and "could not be replayed" not in fit.note
    assert fit.per_device.peak_bytes > fit.per_device.params_bytes > 0


def test_an_experts_loop_that_reads_the_routing_is_named_on_meta(tmp_path, monkeypatch) -> None:
    """transformers' eager experts read the routing (``nonzero``, ``if expert_idx == ...``): no
    values on meta, so no routing is made up; the note names the block, the structure stays."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "mixtral_eager.py"
    path.write_text(
        MIXTRAL_FILE.replace(
            "    return T.MixtralForCausalLM(config)",
            '    config._experts_implementation = "eager"\n    return T.MixtralForCausalLM(config)',
        )
    )
    shot = take_snapshot(LoadOptions(str(path), device="meta", train=True))
    assert not shot.forward.ran and shot.memory is None
    assert "model.layers.0.mlp.experts" in shot.forward.note
    assert shot.total_params > 0 and shot.block_by_path["model.layers.0.mlp.experts"]
