"""``--checkpoint auto`` under ``--memory-budget``: the printed snippet, run on the real model,
keeps the real step's peak under the budget and within 10 % of the plan's prediction."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from netscope.engine.compute.fit import fit_verdict
from tests.engine.plan.plan_models import BLOCKS, loaded, write

WIDE = BLOCKS.replace("randn(32, 16)", "randn(2048, 16)")


def plan(path: str, **options: object):  # type: ignore[no-untyped-def]
    target = loaded(path, train=True, optimizer="adamw", **options)
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.per_device is not None
    return fit


def real_peak(model: torch.nn.Module, batch: torch.Tensor) -> int:
    """The second AdamW step's high water, absolute: what lives before it plus torch's profiler
    memory events (one thread: every free is seen)."""
    optimizer = torch.optim.AdamW(model.parameters(), foreach=True)

    def step() -> None:
        model(batch).float().mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()
    held = [*model.parameters(), batch]
    held += [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    before = sum(t.untyped_storage().nbytes() for t in held)
    activity = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activity, profile_memory=True) as prof:
        step()
    events = prof.profiler.kineto_results.events()  # type: ignore[union-attr]
    live = peak = 0
    for _, change in sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]"):
        live += change
        peak = max(peak, live)
    return before + peak


def test_auto_checkpointing_under_a_budget_holds_in_a_real_step(tmp_path: Path) -> None:
    path = write(tmp_path, WIDE)
    none = plan(path, memory_budget=2**30).per_device.peak_bytes
    every = plan(path, memory_budget=2**30, checkpoint="all").per_device.peak_bytes
    budget = (none + every) // 2
    fit = plan(path, memory_budget=budget, checkpoint="auto")
    assert fit.fits and 0 < len(fit.checkpoint) < 4, fit
    assert "blocks checkpointed" in fit.note
    spec = importlib.util.spec_from_file_location("wide", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    exec(fit.checkpoint_code, {"model": model})  # the printed snippet, as a user pastes it
    wrapped = [n for n, m in model.named_modules() if type(m).__name__ == "CheckpointWrapper"]
    assert wrapped == list(fit.checkpoint)
    measured = real_peak(model, module.example_input())
    assert measured <= budget
    assert fit.per_device.peak_bytes == pytest.approx(measured, rel=0.10)


def test_auto_offers_no_code_when_checkpointing_cannot_make_it_fit(tmp_path: Path) -> None:
    """A budget below the step with every block checkpointed: the plan says checkpointing cannot
    make it fit (with the peak it still needs) and prints no code to paste that would not help."""
    path = write(tmp_path, WIDE)
    every = plan(path, memory_budget=2**30, checkpoint="all").per_device.peak_bytes
    fit = plan(path, memory_budget=every // 2, checkpoint="auto")
    assert not fit.fits and fit.checkpoint_code == ""
    assert "checkpointing cannot make the step fit" in fit.note
