"""--fit's faults met by users (issue 20): a loss() with fixed-size labels, every weight frozen,
a file with step() and loss(), a size smaller than the CUDA context allowance."""

from __future__ import annotations

from pathlib import Path

from netscope.engine.api import fit_call as snapshot_call
from netscope.engine.compute.fit import fit_verdict
from tests.engine.plan.plan_models import BLOCKS, loaded, write

FIXED_LABELS = (
    BLOCKS
    + """


def loss(output, batch):  # 32 labels, whatever the batch
    labels = torch.zeros(32, dtype=torch.long, device=output.device)
    return torch.nn.functional.cross_entropy(output, labels)
"""
)

FROZEN = (
    BLOCKS.replace("    return nn.Sequential(", "    return frozen(nn.Sequential(").replace(
        "nn.Linear(64, 4))", "nn.Linear(64, 4)))"
    )
    + """

def frozen(model):
    for p in model.parameters():
        p.requires_grad_(False)
    return model
"""
)

STEP_AND_LOSS = (
    BLOCKS.replace(
        "return torch.randn(32, 16)",
        "return {'x': torch.randn(32, 16), 'y': torch.zeros(32, dtype=torch.long)}",
    )
    + """

def step(model, batch):
    return loss(model(batch["x"]), batch)


def loss(output, batch):
    return torch.nn.functional.cross_entropy(output, batch["y"])
"""
)


def test_a_loss_with_fixed_size_labels_keeps_the_verdict_and_says_why(tmp_path: Path) -> None:
    target = loaded(write(tmp_path, FIXED_LABELS), train=True, optimizer="adamw", fit="24GiB")
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.fits and fit.needed_bytes > 0
    assert fit.max_batch is None and "failed at another batch size" in fit.note
    assert "ValueError" in fit.note or "RuntimeError" in fit.note
    planned = loaded(write(tmp_path, FIXED_LABELS), train=True, fit="2x24GiB", shard="fsdp")
    fit = fit_verdict(planned, planned.example_input)
    assert fit is not None and fit.per_device is not None and fit.max_batch is None


def test_train_fit_with_every_weight_frozen_plans_a_forward(tmp_path: Path) -> None:
    target = loaded(write(tmp_path, FROZEN), train=True, optimizer="adamw", fit="24GiB")
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.fits
    planned = loaded(write(tmp_path, FROZEN), train=True, fit="2x24GiB", shard="fsdp")
    fit = fit_verdict(planned, planned.example_input)
    assert fit is not None and fit.per_device is not None
    assert fit.per_device.grads_bytes is None and "frozen" in fit.note


def test_a_file_with_step_and_loss_gets_its_batch_in_loss(tmp_path: Path) -> None:
    target = loaded(write(tmp_path, STEP_AND_LOSS), train=True, optimizer="adamw", fit="24GiB")
    call = snapshot_call(target)  # what step() passes the model: x alone
    assert call is not None and len(call.args) == 1
    fit = fit_verdict(target, call)
    assert fit is not None and fit.fits and fit.max_batch is not None
    planned = loaded(write(tmp_path, STEP_AND_LOSS), train=True, fit="2x24GiB", shard="fsdp")
    fit = fit_verdict(planned, snapshot_call(planned))
    assert fit is not None and fit.per_device is not None and fit.per_device.grads_bytes


def test_a_size_is_a_budget_without_the_context_allowance(tmp_path: Path) -> None:
    target = loaded(write(tmp_path), fit="300KiB")
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.capacity_bytes == 300 * 1024 and fit.context_bytes == 0
    assert "a budget" in fit.note
    board = loaded(write(tmp_path), fit="H100")
    fit = fit_verdict(board, board.example_input)
    assert fit is not None and fit.context_bytes == 2**30


def test_a_forward_that_reads_values_says_why_it_cannot_be_planned(tmp_path: Path) -> None:
    import pytest

    from netscope.engine.errors import NetscopeError

    reads = BLOCKS.replace(
        "return x + self.down(torch.relu(self.up(x)))",
        "return x * float(x.abs().max().item() > 0) + self.down(torch.relu(self.up(x)))",
    )
    target = loaded(write(tmp_path, reads), fit="2x1GiB", shard="fsdp")
    with pytest.raises(NetscopeError, match="could not be replayed as planned") as raised:
        fit_verdict(target, target.example_input)
    assert ".item()" in (raised.value.hint or "")


def test_an_op_the_fake_tensors_refuse_is_not_blamed_on_reading_values(tmp_path: Path) -> None:
    """An op with a real kernel and no fake one (a custom op; or a meta function stricter than
    the real kernel) gets its own hint: the .item() one sent users hunting for reads their
    model does not have."""
    import pytest

    from netscope.engine.errors import NetscopeError

    refused = BLOCKS.replace(
        "class Block(nn.Module):",
        "@torch.library.custom_op('netscope_plan_test::twice', mutates_args=())\n"
        "def twice(x: torch.Tensor) -> torch.Tensor:  # a real kernel, no fake one\n"
        "    return x * 2\n\n\nclass Block(nn.Module):",
    ).replace("return x + self.down(", "return twice(x) + self.down(")
    target = loaded(write(tmp_path, refused), fit="2x1GiB", shard="fsdp")
    with pytest.raises(NetscopeError, match="could not be replayed as planned") as raised:
        fit_verdict(target, target.example_input)
    assert "meta functions" in (raised.value.hint or "") and ".item()" not in raised.value.hint


def test_the_batch_that_is_the_argument_is_held_once(tmp_path: Path) -> None:
    """BLOCKS' example input is both the forward's argument and loss()'s batch: one tensor."""
    from netscope.engine.plan.verdict import Planner, layout_for

    target = loaded(write(tmp_path), train=True, fit="2x1GiB", shard="fsdp")
    call = target.example_input
    assert call is not None and target.model is not None
    planner = Planner(target, target.model, call, layout_for(target), (), 32)
    planner.estimate(2, ())
    (step,) = planner.replays.values()
    assert step.inputs_bytes == 32 * 16 * 4  # randn(32, 16), not twice
