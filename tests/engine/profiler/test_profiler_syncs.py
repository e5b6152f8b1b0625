"""Each sync idiom is found once, at its exact line and in its block, on the CPU."""

from __future__ import annotations

import prof_fake_library
import prof_idioms as idioms
import pytest
import torch
from prof_helpers import marked_location

from netscope.engine.profiler.detect import detect_call

CASES = [
    (idioms.Item, "item", ".item()"),
    (idioms.Float, "float", "float(tensor)"),
    (idioms.Int, "int", "int(tensor)"),
    (idioms.Bool, "bool", "bool(tensor) / if tensor:"),
    (idioms.If, "if", "bool(tensor) / if tensor:"),
    (idioms.Tolist, "tolist", ".tolist()"),
    (idioms.Numpy, "numpy", ".numpy()"),
    (idioms.NumpyAsarray, "asarray", "numpy.asarray(tensor)"),
    (idioms.Cpu, "cpu", ".cpu()"),
    (idioms.CpuNumpy, "cpu_numpy", ".cpu()"),
    (idioms.ToCpu, "to_cpu", '.to("cpu")'),
    (idioms.Print, "print", "print / repr(tensor)"),
    (idioms.Format, "format", "f-string / format(tensor)"),
    (idioms.Nonzero, "nonzero", "nonzero"),
    (idioms.WhereOneArg, "where", "torch.where(cond)"),
    (idioms.MaskedSelect, "masked_select", "masked_select"),
    (idioms.BoolIndex, "bool_index", "boolean indexing x[mask]"),
    (idioms.Unique, "unique", "unique"),
    (idioms.Equal, "equal", "torch.equal"),
    (idioms.CudaSynchronize, "synchronize", "torch.cuda.synchronize()"),
    (idioms.InsideTorch, "inside_torch", "value read inside a torch call"),
]


def run_detect(block: torch.nn.Module, x: torch.Tensor | None = None):
    model = idioms.Outer(block)
    x = torch.tensor([[1.0, -2.0, 3.0], [0.5, -0.5, 2.0]]) if x is None else x
    return detect_call(model, lambda m, batch: m(batch), x)


@pytest.mark.parametrize(("block", "marker", "op"), CASES, ids=[c[1] for c in CASES])
def test_idiom_found_at_its_line_and_block(
    block: type[torch.nn.Module], marker: str, op: str, capsys: pytest.CaptureFixture[str]
) -> None:
    copies, syncs = run_detect(block())
    if marker in ("cpu", "cpu_numpy", "to_cpu"):  # the copy to the host is what waits
        assert [(c.direction, c.bytes, c.location) for c in copies] == [
            ("D2H", 6 * 4, marked_location(idioms, marker))
        ]
    else:
        assert copies == ()
    assert len(syncs) == 1, syncs
    (finding,) = syncs
    assert finding.op == op
    assert finding.location == marked_location(idioms, marker)
    assert finding.block == "inner"
    assert finding.device == "cpu"
    assert finding.stall_ms is None
    assert finding.reason.endswith("(would sync on CUDA)")
    if marker != "inside_torch":  # one_hot reads both min and max
        assert finding.count == 1


def test_count_is_per_step() -> None:
    _, syncs = run_detect(idioms.Loop())
    assert [(s.op, s.count, s.location) for s in syncs] == [
        (".item()", 3, marked_location(idioms, "loop"))
    ]


def test_library_line_is_reported_not_torch() -> None:
    (finding,) = run_detect(idioms.Library())[1]
    assert finding.location == marked_location(prof_fake_library, "library")
    assert finding.block == "inner"


def test_lookalikes_are_not_syncs() -> None:
    assert run_detect(idioms.NoSyncs()) == ((), ())


def test_sync_outside_the_model_is_attributed_to_the_step() -> None:
    model = idioms.Outer(torch.nn.Identity())
    x = torch.ones(2, 2)

    def step(model: torch.nn.Module, batch: torch.Tensor) -> float:
        return model(batch).sum().item()  # MARK:step_item

    (finding,) = detect_call(model, step, x)[1]
    assert finding.block == "(step)"
    assert finding.location == marked_location(test_lookalikes_are_not_syncs, "step_item")


def test_interceptors_and_patches_are_removed_even_when_the_step_raises() -> None:
    from torch.nn.modules import module as torch_module
    from torch.overrides import _get_current_function_mode_stack
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    before = torch.cuda.synchronize
    model = idioms.Outer(idioms.Item())

    def failing(model: torch.nn.Module, batch: torch.Tensor) -> None:
        model(batch)
        raise ValueError("user step failed")

    weight_before = model.pre
    with pytest.raises(ValueError, match="user step failed"):
        detect_call(model, failing, torch.ones(2))
    assert model.pre is weight_before
    assert torch.cuda.synchronize is before
    assert not _get_current_function_mode_stack()
    assert not _get_current_dispatch_mode_stack()
    assert not torch_module._global_forward_hooks
    assert not torch_module._global_forward_pre_hooks
