"""The parts of the watcher the framework loops rely on, alone: phases charged where they nest,
the early burst of recorded steps, the bytes a sliced batch holds, the profiler's markers."""

from __future__ import annotations

import time

import torch
from torch import nn

from netscope.engine.run.loop_detect import RootTracker, SampledStep, Taint
from netscope.engine.run.phases import BACKWARD, DATA, FORWARD, OPTIMIZER, PhaseStack, StepClock
from netscope.engine.run.sampling import EARLY_RECORDED, HEARTBEAT_EVERY, SamplingPlan
from netscope.engine.run.step_bytes import held_bytes, view_bytes
from netscope.engine.run.step_watch import StepWatch


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_forward_and_backward_inside_optimizer_step_are_their_own_phases() -> None:
    """Lightning's nesting: optimizer.step(closure) runs the forward and the backward. (Upper
    bounds are loose: a shared machine may preempt between the busy loops.)"""
    clock = StepClock("optimizer.step")
    phases = PhaseStack([clock])
    phases.enter(OPTIMIZER)
    phases.enter(FORWARD)
    _busy(0.05)
    phases.leave()
    phases.enter(BACKWARD)
    phases.enter(FORWARD)  # a block recomputed by the backward (activation checkpointing)
    _busy(0.05)
    phases.leave()
    phases.leave()
    _busy(0.01)  # the optimizer's own update
    phases.leave()
    data, forward, backward, optimizer, _closure = clock.acc
    assert data == 0.0 and forward >= 0.05 and backward >= 0.05
    assert 0.01 <= optimizer < 0.05  # charged the nested 0.1 s, it would be over 0.11
    assert phases.stack == [] and clock.start is not None


def test_the_closure_of_optimizer_step_is_the_loops_own_time_not_the_optimizers() -> None:
    """optimizer.step(closure): the closure's code outside the forward and backward (the loss,
    a framework's hooks) is "other", as in a plain loop; its result is handed back as is."""
    clock = StepClock("optimizer.step")
    phases = PhaseStack([clock])

    def closure() -> str:
        _busy(0.05)  # the loss and the hooks
        phases.enter(FORWARD)
        _busy(0.02)
        phases.leave()
        return "loss"

    phases.enter(OPTIMIZER)
    assert phases.wrap_closure(closure)() == "loss"
    _busy(0.005)
    phases.leave()
    _, forward, _, optimizer, closure_time = clock.acc
    assert forward >= 0.02 and closure_time >= 0.05 and 0.005 <= optimizer < 0.05


def test_phases_left_open_by_an_error_are_charged_and_closed() -> None:
    clock = StepClock("optimizer.step")
    phases = PhaseStack([clock])
    phases.enter(OPTIMIZER)
    phases.enter(DATA)
    _busy(0.01)
    phases.unwind(1)
    assert phases.stack == [OPTIMIZER] and clock.acc[DATA] >= 0.01


def test_the_early_burst_covers_every_phase_of_a_period_up_to_its_length() -> None:
    for every in (None, 7, 1000):
        plan = SamplingPlan(every)
        recorded = [plan.next_sampled]
        while plan.record_next():
            recorded.append(recorded[-1] + 1)
        assert len(recorded) == EARLY_RECORDED
        for period in range(1, EARLY_RECORDED + 1):  # a loss printed every `period` steps
            assert {step % period for step in recorded} == set(range(period))
    assert SamplingPlan(1).continuous and SamplingPlan(2).continuous
    assert not SamplingPlan(3).continuous and not SamplingPlan(None).continuous


def test_the_heartbeat_comes_before_the_burst_on_automatic_sampling() -> None:
    plan = SamplingPlan()
    assert plan.heartbeat_due(3) and not plan.heartbeat_due(4)
    assert plan.next_sampled == 5  # warmed up over step 4


def test_a_heartbeat_window_without_enough_beats_comes_again_soon() -> None:
    """The first window (step 3) of a short run may get no beat on a busy machine: the next
    opens ``every`` steps on, not HEARTBEAT_EVERY, so a 40-step run still has the figure."""
    plan = SamplingPlan()
    assert plan.heartbeat_due(3, enough_beats=False)
    assert plan.next_heartbeat == 3 + plan.every < 40
    assert plan.heartbeat_due(plan.next_heartbeat, enough_beats=True)
    assert plan.next_heartbeat >= 3 + plan.every + HEARTBEAT_EVERY


def test_a_slice_of_a_big_tensor_holds_its_own_bytes() -> None:
    tokens = torch.arange(100_000)  # 800 KB
    batch = tokens[512:1024]
    assert view_bytes(batch) == 512 * 8
    assert held_bytes([batch]) == 512 * 8
    assert held_bytes([tokens, batch]) == 800_000  # never more than the storage
    assert view_bytes(torch.zeros(4, 1).expand(4, 1000)) == 4 * 4  # stride 0: once
    assert view_bytes(torch.zeros(0, 3)) == 0


def test_profiler_markers_in_the_step_are_not_uncounted_math() -> None:
    class Marked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.profiler.record_function("my_block"):
                return self.linear(x).relu()

    model = Marked()
    watch = StepWatch(model, "cpu", training=True)
    x = torch.randn(2, 8)
    watch.forward_begins((x,), {})
    loss = model(x).sum()
    watch.forward_ends()
    watch.backward_begins()
    loss.backward()
    watch.backward_ends()
    figures = watch.figures([])
    assert figures is not None and figures.compute.forward_flops == 2 * 2 * 8 * 4
    uncounted = {op.op for op in figures.compute.uncounted_ops}
    assert "relu" in uncounted  # uncounted math is still listed
    assert not any(op.startswith("profiler.") for op in uncounted), uncounted


def test_netscopes_own_reads_inside_a_sampled_step_are_not_the_loops_syncs() -> None:
    """The gradient statistics netscope refreshes at an optimizer step (every 5 s) landed in a
    sampled step as a `.tolist()` at the line calling optimizer.step(); paused, they do not."""
    model = nn.Linear(4, 2)
    taint = Taint()
    for param in model.parameters():
        taint.add(param)
    step = SampledStep(RootTracker(), taint)
    step.start()
    try:
        with step.paused():
            model.weight.abs().sum().tolist()  # netscope's own statistics
        model.weight.sum().item()  # the loop's own read
    finally:
        found, _ = step.stop()
    assert [event.op for event in found] == [".item()"]
