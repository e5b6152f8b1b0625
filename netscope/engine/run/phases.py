"""The phases of the step in progress: data, forward, backward and optimizer, from what runs.

A phase opens when its code starts (the DataLoader's ``__next__``, a root module's forward,
``backward()``, ``optimizer.step()``) and closes when it returns. Phases nest the way the loop
nests them: Lightning runs ``training_step`` (the forward and the backward) inside
``optimizer.step(closure)``, accelerate and the Hugging Face Trainer call the model from their own
code. Time is charged to the innermost open phase, so the optimizer phase is the optimizer's time
less the forward and backward run inside it. A forward inside a backward (activation
checkpointing recomputing a block) stays backward time. The closure handed to
``optimizer.step(closure)`` is the loop's own code (Lightning's ``training_step`` and its hooks,
the loss): its time outside the forward and backward is ``other``, as it is in a plain loop.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any, Protocol

DATA, FORWARD, BACKWARD, OPTIMIZER = range(4)
CLOSURE = 4  # the optimizer's closure: charged to a slot the report leaves to "other"
PHASE_SLOTS = 5


class DataGate(Protocol):
    """What runs differently while the loop waits on its data (a sampled step's detectors)."""

    def data_begins(self) -> None: ...

    def data_ends(self) -> None: ...


class StepClock:
    """Phase times of the step in progress, for one kind of boundary."""

    __slots__ = ("acc", "boundary", "index", "start")

    def __init__(self, boundary: str) -> None:
        self.boundary = boundary
        self.start: float | None = None
        self.acc = [0.0] * PHASE_SLOTS
        self.index = 0


class PhaseStack:
    """The open phases, innermost last; ``enter``/``leave`` charge the time between them."""

    __slots__ = ("clocks", "data_gate", "stack", "started", "t0")

    def __init__(self, clocks: list[StepClock]) -> None:
        self.clocks = clocks
        self.data_gate: DataGate | None = None  # told when the data phase begins and ends
        self.stack: list[int] = []
        self.t0 = 0.0  # when the innermost open phase last started being charged
        self.started = False

    # enter/leave run at every phase of every step: the charge is inlined (no call of its own)
    def enter(self, phase: int) -> None:
        now = perf_counter()
        stack = self.stack
        if stack:
            outer = stack[-1]
            spent = now - self.t0
            for clock in self.clocks:
                clock.acc[outer] += spent
            if outer == BACKWARD and phase == FORWARD:
                phase = BACKWARD  # a block recomputed by the backward
        elif not self.started:
            self.started = True
            for clock in self.clocks:
                clock.start = now
        self.t0 = now
        stack.append(phase)
        if phase == DATA and self.data_gate is not None:
            self.data_gate.data_begins()

    def leave(self) -> None:
        stack = self.stack
        if not stack:
            return
        now = perf_counter()
        spent = now - self.t0
        phase = stack.pop()
        for clock in self.clocks:
            clock.acc[phase] += spent
        self.t0 = now
        if phase == DATA and self.data_gate is not None:
            self.data_gate.data_ends()

    def wrap_closure(self, closure: Callable[[], Any]) -> Callable[[], Any]:
        """The closure as given, its time charged as the loop's own code (not the optimizer's)."""
        phases = self

        def closure_phase() -> Any:
            phases.enter(CLOSURE)
            try:
                return closure()
            finally:
                phases.leave()

        return closure_phase

    def unwind(self, depth: int) -> None:
        """Close the phases above ``depth`` that an error left open (their time is charged)."""
        while len(self.stack) > depth:
            self.leave()

    def pause(self, seconds: float) -> None:
        """The watcher's own work is not the script's: move the clocks past it."""
        for clock in self.clocks:
            if clock.start is not None:
                clock.start += seconds
        self.t0 += seconds
