"""Which steps of the loop the sync/copy detectors record, and when the heartbeat beats.

A sampled step is slowed by the detectors, and the step before it warms them up (it taints what
the recorded step may read). The plan:

- an early burst: once the detectors are warm they record ``EARLY_RECORDED`` steps in a row, so a
  short run (30-60 steps) is seen, and a sync every k <= ``EARLY_RECORDED`` steps (a loss printed
  every 10 steps) lands in the burst whatever its phase;
- then 1 step in ``every`` on average: ``every`` chosen from what a recorded step costs so the
  loop slows by about ``BUDGET``, each interval varied by up to half either way (a fixed interval
  aliased with a periodic sync would see it always or never). The budget is kept over the whole
  loop, the burst included: every slowed step (warm-up or recorded) is counted in plain steps'
  worth, and the next sample waits until the loop has run long enough for ``BUDGET`` of it to
  pay for what was spent (a 600-step loop of 5 ms steps has paid for its burst at about step
  1200, so it is not sampled again before then); ``--every N`` keeps exactly N, and
  ``--every 1`` or ``2`` records every step (at 2 the warm-up steps were as slow as the recorded
  ones: recording them costs nothing more);
- the heartbeat (interpreter-lock lateness) beats over step 3, before the burst, so a short run
  has the figure, then once every ``every`` steps, at most once every ``HEARTBEAT_EVERY``; the
  block clock times a step after the burst, then 1 in ``every``, at most 1 in ``BLOCK_EVERY``.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import deque

# share of the loop's time the sampled steps may add: half a percent leaves room for the
# steady state's other parts (the lean boundaries, the windows below) under 3% in all
# (docs/benchmarks.md: a 3000-step Lightning loop read +3.3% at 1%, +1.6% at 0.5% with the
# windows below spaced out)
BUDGET = 0.005
MIN_REFERENCE = 8  # plain steps a recorded step's cost is measured against
# a recorded step's cost (share of a plain step) before it can be measured: the benchmark's
# framework loops measured 0.41-0.55 (benchmarks/bench_framework_steps.py)
ASSUMED_EXTRA = 0.5
MIN_EVERY, MAX_EVERY = 10, 1000
EARLY_RECORDED = 10  # steps recorded in a row once the detectors are warm
FIRST_SAMPLED = 5  # 1 warms up, 2 is counted (FLOPs, memory), 3 has the heartbeat, 4 warms up
FIRST_SAMPLED_FIXED = 4  # --every N: 3 warms the detectors up (the heartbeat comes later)
FIRST_HEARTBEAT = 3
SAMPLING_SEED = 0x5EED  # the jitter of automatic intervals: the same steps on every run
CONTINUOUS_EVERY = 2  # --every at or below this records every step
# the heartbeat's windows and the block clock's steps slow the steps they run on: at most 1 in
# these many steps (or 1 in ``every`` when that is rarer)
# (a beat costs a short loop ~0.2 ms: the interpreter lock handed over and back; a 4 ms step
# of the Trainer's loop ran ~0.4 ms slower in a window, probe: docs/benchmarks.md)
# (each window or block-timed step, with the hook switches around it, is ~0.5 ms on a 4.5 ms
# step: at 1 in 500 and 1 in 100 with the find steps they cost a Lightning loop's steady
# state +0.39%, `bench_lean_parts.py lightning periodic`)
HEARTBEAT_EVERY = 1000
BLOCK_EVERY = 300


def jittered(rng: random.Random, span: int) -> int:
    """``span`` on average, varied by up to half either way, from a seeded ``rng``: the same
    steps on every run, and a loop's own period does not alias with the interval."""
    return span // 2 + rng.randrange(span + 1)


class SamplingPlan:
    """The step indices at which sampling, the heartbeat and block timing come next."""

    def __init__(self, every: int | None = None) -> None:
        self.fixed_every = max(every, 1) if every is not None else None
        self.every = self.fixed_every or MIN_EVERY
        self._jitter = random.Random(SAMPLING_SEED)
        self.extras: deque[float] = deque(maxlen=9)  # how much slower recorded steps were
        self.spent = 0.0  # plain steps' worth of time the slowed steps added so far
        self.recorded = 0  # steps recorded since the detectors last started (the warm-up apart)
        self.restart()

    def restart(self) -> None:
        """A new kind of step boundary (the optimizer's was found): its steps count from 1."""
        fixed = self.fixed_every is not None
        self.next_sampled = FIRST_SAMPLED_FIXED if fixed else FIRST_SAMPLED
        self.next_heartbeat = FIRST_HEARTBEAT + (EARLY_RECORDED + 2 if fixed else 0)
        self.next_block = self.next_sampled + EARLY_RECORDED  # after the burst, then 1 in every
        self.burst_left = EARLY_RECORDED
        self.spent = 0.0
        self.recorded = 0

    @property
    def continuous(self) -> bool:
        return self.fixed_every is not None and self.fixed_every <= CONTINUOUS_EVERY

    def record_next(self) -> bool:
        """A step was just recorded: whether the next is recorded too (the detectors stay on)."""
        self.recorded += 1
        if self.continuous:
            return True
        self.burst_left -= 1
        return self.burst_left > 0

    def first_due(self) -> int:
        """The first upcoming step at whose boundary the plan starts something: the warm-up
        before the next sampled step, the heartbeat's window or the block clock."""
        return min(self.next_sampled - 1, self.next_heartbeat, self.next_block)

    def next_interval(self) -> int:
        """Steps to the next sampled one: ``every`` on average. Automatic intervals vary by up to
        half either way, so a sync that comes every k steps (a loss printed every 10, a
        Trainer's log every 4) lands in the samples in proportion (per_step near 1/k) instead of
        always or never, as a fixed interval aliased with k would have it. ``--every N`` stays
        exactly N."""
        if self.fixed_every is not None:
            return self.every
        return jittered(self._jitter, self.every)

    def sampled(self, step_index: int, step_ms: float, plain_ms: list[float]) -> None:
        """The detectors stopped after step ``step_index``: choose ``every`` from what the last
        recorded step cost next to the plain steps, and the next sampled step: ``every`` steps
        on, or later while what the slowed steps spent so far (the burst's included) is more than
        ``BUDGET`` of the loop would pay for."""
        slowed = self.recorded + 1  # the recorded steps and the warm-up before them
        self.recorded = 0
        if self.fixed_every is None:
            if len(plain_ms) >= MIN_REFERENCE:
                plain = statistics.median_high(plain_ms)
                self.extras.append(max(step_ms / plain - 1.0, 0.0) if plain > 0 else 1.0)
            # one noisy reading (another process slowing a plain step) must not make every
            # step a sampled one: the median of the readings so far; before any (the burst
            # ends at step 15, with only the early steps, slowed themselves, to compare with)
            # the cost a recorded step is assumed to have
            extras = self.extras
            extra = statistics.median_high(extras) if extras else ASSUMED_EXTRA
            # a sample costs two slowed steps: the warm-up and the recorded one
            self.every = min(MAX_EVERY, max(MIN_EVERY, math.ceil(2 * extra / BUDGET)))
            self.spent += slowed * extra
            # the step by which BUDGET of the loop pays for what was spent and the next sample
            paid_at = math.ceil((self.spent + 2 * extra) / BUDGET)
            span = min(MAX_EVERY, max(self.every, paid_at - step_index))
            self.next_sampled = step_index + jittered(self._jitter, span)
            return
        self.next_sampled = step_index + self.next_interval()

    def heartbeat_due(self, upcoming: int, enough_beats: bool = True) -> bool:
        """Whether the heartbeat's window opens at step ``upcoming``; until it has had enough
        beats (a short run's first window may get none on a busy machine) the next comes
        ``every`` steps on, not ``HEARTBEAT_EVERY``."""
        if upcoming < self.next_heartbeat:
            return False
        spacing = max(self.every, HEARTBEAT_EVERY) if enough_beats else self.every
        self.next_heartbeat = upcoming + spacing
        return True

    def block_due(self, upcoming: int) -> bool:
        if upcoming < self.next_block:
            return False
        self.next_block = upcoming + max(self.every, BLOCK_EVERY)
        return True
