"""What netscope run adds to the steps it watches, counted rather than timed: the Python calls of
netscope's own code in a plain step, which steps the detectors record over a long loop, and that
quiet steps still find a model first called late and leave torch's hook dicts as they were."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.utils._python_dispatch import _get_current_dispatch_mode
from torch.utils.data import DataLoader, Dataset, TensorDataset

import netscope
from netscope.engine.run import watcher as watcher_module
from netscope.engine.run.quiet import FIND_EVERY, LEAN_BELOW_MS, PHASE_EVERY, QUIET_FROM
from netscope.engine.run.sampling import (
    ASSUMED_EXTRA,
    BUDGET,
    EARLY_RECORDED,
    MIN_REFERENCE,
    SamplingPlan,
)
from netscope.engine.run.watcher import Watcher
from tests.run.helpers import watcher_here

NETSCOPE_DIR = str(Path(netscope.__file__).parent)
# netscope's Python calls in a step of the 6-block loop below: a lean one 6-7 (the three patched
# functions, the optimizer's two hooks, the boundary, the memory read), 24-29 at a boundary where
# something is due; a quiet one whose phases are read about 50 (64 with global hooks), up to 84
# when its boundary also sends a batch of steps (every 0.2 s) and switches the hooks
MAX_CALLS_PER_LEAN_STEP = 35
MAX_CALLS_PER_PHASED_STEP = 90


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))


def _batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    data = TensorDataset(torch.randn(4096, 8), torch.randn(4096, 8))
    while True:
        yield from DataLoader(data, batch_size=4)


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    with watcher_here() as agent:
        yield agent


def _netscope_calls(step: Any, steps: int) -> Counter[str]:
    calls: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(NETSCOPE_DIR):
            calls[frame.f_code.co_name] += 1

    sys.setprofile(profile)
    try:
        for _ in range(steps):
            step()
    finally:
        sys.setprofile(None)
    return calls


def _plain_step(agent: Watcher) -> bool:
    return agent.sampled is None and agent.block_clock is None and agent.watch is None


def test_lean_steps_run_no_module_hook_and_phased_ones_the_root_only(
    watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the early steps, a plain step is lean: netscope reads its boundary and nothing else
    (no module hook, the patched functions hand straight on); 1 quiet step in about
    PHASE_EVERY has its phases read, through one pair of hooks on the root (the 5 blocks inside
    it run on torch's fast path)."""
    # what is paced by the clock (a batch of steps sent every 0.5 s, gradient statistics every
    # 5 s) takes a step's whole boundary, whatever kind the step is: on a busy machine the
    # 3 * FIND_EVERY steps below met a batch sent with the heartbeat's and compile reports (38
    # calls). Those are counted apart; here only what each lean or phased step costs.
    monkeypatch.setattr(watcher_module, "FLUSH_S", float("inf"))
    watcher.grad_refresh_s = float("inf")
    model, batches = _mlp(), _batches()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> None:
        x, y = next(batches)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()

    for _ in range(QUIET_FROM + EARLY_RECORDED):
        step()
    for _ in range(10 * FIND_EVERY):  # bounded: a quiet step must come
        if _plain_step(watcher) and watcher.quiet is not None and watcher.quiet.on:
            break
        step()
    assert watcher.quiet is not None and watcher.quiet.on, "no quiet step came"
    watcher.plan.next_sampled = watcher.plan.next_block = 10**9  # plain steps from here on
    watcher.plan.next_heartbeat = 10**9
    lean: list[Counter[str]] = []
    phased: list[Counter[str]] = []
    for _ in range(3 * FIND_EVERY):
        kind = lean if watcher.lean else phased if watcher.quiet.on else None
        calls = _netscope_calls(step, 1)
        if kind is not None:
            kind.append(calls)
    assert watcher.plan.next_sampled == 10**9
    assert len(lean) >= 2 * FIND_EVERY, (len(lean), len(phased))
    for calls in lean:
        assert "_pre" not in calls and "_post" not in calls, calls
        assert sum(calls.values()) <= MAX_CALLS_PER_LEAN_STEP, calls
    assert 3 * FIND_EVERY // (2 * PHASE_EVERY) <= len(phased) <= 6 * FIND_EVERY // PHASE_EVERY
    for calls in phased:
        assert calls["_pre"] == calls["_post"] == 1, calls
        assert sum(calls.values()) <= MAX_CALLS_PER_PHASED_STEP, calls
    assert model(torch.randn(1, 8)).shape == (1, 8)


def test_steps_of_20_ms_or_more_are_never_lean(watcher: Watcher) -> None:
    """On a loop of long steps (a GPU step of 100 ms) the phases' few calls are nothing: every
    quiet step keeps its phases and the model's calls, read at its root."""
    model, batches = _mlp(), _batches()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    kinds = []
    for _ in range(QUIET_FROM + 15):
        x, y = next(batches)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        time.sleep(LEAN_BELOW_MS / 1000.0)
        optimizer.step()
        assert watcher.quiet is not None
        kinds.append("lean" if watcher.lean else "quiet" if watcher.quiet.on else "hooked")
    assert "quiet" in kinds and "lean" not in kinds, kinds


def test_quiet_steps_find_a_model_first_called_late_and_leave_no_hook(watcher: Watcher) -> None:
    first, late = _mlp(), nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 8))
    optimizer = torch.optim.SGD([*first.parameters(), *late.parameters()], lr=1e-3)
    x, y = torch.randn(4, 8), torch.randn(4, 8)
    for index in range(400):
        optimizer.zero_grad()
        out = first(x)
        if index >= 60:  # called only once quiet steps are under way
            out = late(out)
        nn.functional.mse_loss(out, y).backward()
        optimizer.step()
        if id(late) in watcher.roots:
            break
    assert 60 < index <= 60 + FIND_EVERY and id(late) in watcher.roots  # at a global-hook step
    assert watcher.main == id(first)  # the first model holds more of the stepped parameters
    watcher.finish()
    for module in (*first.modules(), *late.modules()):
        assert not module._forward_pre_hooks and not module._forward_hooks
    assert not module_hooks._global_forward_pre_hooks and not module_hooks._global_forward_hooks


def test_the_early_burst_is_paid_for_before_the_next_sample() -> None:
    """A recorded step 55% slower than a plain one (the Lightning MLP of the benchmark): the 10
    steps in a row and their warm-up are counted in the budget (half a percent), so a 600-step
    loop is not sampled again, and a long loop spends about the budget in all, the burst
    included."""

    def recorded_steps(steps: int, extra: float) -> tuple[list[int], float]:
        plan, recorded, index = SamplingPlan(), [], 1
        while index <= steps:
            if index == plan.next_sampled - 1:  # the warm-up
                index += 1
                recorded.append(index)
                while plan.record_next():
                    index += 1
                    recorded.append(index)
                plan.sampled(index, (1 + extra) * 5.0, [5.0] * 8)
            index += 1
        return [step for step in recorded if step <= steps], plan.spent

    short, _ = recorded_steps(40, 0.55)
    assert short == list(range(5, 5 + EARLY_RECORDED))  # a short run: the whole burst
    # 1 in 220 from the burst's end on recorded 2 more; the burst paid for first: 1 at most
    assert len(recorded_steps(600, 0.55)[0]) <= EARLY_RECORDED + 1
    recorded, spent = recorded_steps(20_000, 0.55)
    # about the budget in all: near it, not over it (88 recorded steps at half a percent)
    assert len(recorded) > 50 and BUDGET * 0.8 <= spent / 20_000 <= BUDGET * 1.1


def test_a_burst_with_no_plain_steps_to_compare_assumes_the_recorded_cost() -> None:
    """The burst ends at step 15 with only the early steps behind it, slowed themselves (the
    counted step, the heartbeat's): compared with them a recorded step looked nearly free and a
    600-step Trainer loop was sampled 4 more times. Without MIN_REFERENCE plain steps the plan
    assumes ASSUMED_EXTRA, and measures the cost at the next sample."""
    plan = SamplingPlan()
    for _ in range(EARLY_RECORDED - 1):
        plan.record_next()
    plan.sampled(15, 9.3, [7.9, 8.1, 7.6])  # the early steps: as slow as the recorded one
    assert not plan.extras
    assert plan.spent == EARLY_RECORDED * ASSUMED_EXTRA
    # the burst and one more sample paid for at 0.5%: about step 1200, jittered by half either way
    paid_at = (plan.spent + 2 * ASSUMED_EXTRA) / BUDGET
    assert plan.next_sampled >= 15 + (paid_at - 15) // 2
    plan.sampled(plan.next_sampled + 1, 7.5, [5.0] * MIN_REFERENCE)
    assert plan.extras[0] == pytest.approx(0.5)


class _Rows(Dataset):
    """Samples that note whether a mode of the detectors was on while the loader read them."""

    def __init__(self) -> None:
        self.x, self.y = torch.randn(4096, 8), torch.randn(4096, 8)
        self.modes_seen: list[str | None] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        mode = _get_current_dispatch_mode()
        self.modes_seen.append(None if mode is None else type(mode).__name__)
        return self.x[index], self.y[index]


def test_a_sampled_steps_data_phase_runs_without_the_detectors(watcher: Watcher) -> None:
    """On a CPU run the DataLoader's indexing and collating touch no tensor that would be on
    the device: the detectors' modes step aside there, and the loss read after each step (the
    loader's next batch comes between) is still found on every recorded step."""
    model, rows = _mlp(), _Rows()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    sampled_reads: list[bool] = []
    for x, y in DataLoader(rows, batch_size=4):
        if watcher.clocks[0].index >= 20:
            break
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        sampled_reads.append(watcher.sampled is not None)
        loss.item()  # read after the boundary: in the next step, as a loss logged every step
    assert sum(sampled_reads) >= EARLY_RECORDED
    assert set(rows.modes_seen) == {None}  # never inside the detectors' modes
    syncs = watcher.table.findings("cpu")[0]
    assert [(s.finding.op, s.per_step) for s in syncs] == [(".item()", 1.0)]
    assert watcher.table.sampled == EARLY_RECORDED
