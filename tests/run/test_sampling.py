"""Which steps netscope run samples: `every` on average, never aliased with a periodic sync."""

from __future__ import annotations

import statistics
from collections import Counter

from netscope.engine.run.watcher import MIN_EVERY, Watcher


def _sampled_steps(agent: Watcher, count: int) -> list[int]:
    step, steps = 0, []
    for _ in range(count):
        step += agent.next_interval()
        steps.append(step)
    return steps


def test_automatic_intervals_average_every_and_reach_every_phase_of_a_period() -> None:
    agent = Watcher(None, "train.py")  # type: ignore[arg-type]
    agent.every = 400  # as the overhead budget may choose
    steps = _sampled_steps(agent, 800)
    gaps = [b - a for a, b in zip([0, *steps], steps, strict=False)]
    assert abs(statistics.mean(gaps) - 400) < 15 and min(gaps) >= 400 // 2
    # a loss printed every 10 steps: a fixed interval of 400 samples one phase of that period
    # only (the print always or never); here every phase about equally, a tenth as on the loop
    phases = Counter(step % 10 for step in steps)
    assert all(40 <= phases[phase] <= 120 for phase in range(10)), phases  # fixed: 800 and 0s
    assert _sampled_steps(Watcher(None, "train.py"), 50) == _sampled_steps(  # type: ignore[arg-type]
        Watcher(None, "train.py"),  # type: ignore[arg-type]
        50,
    )  # the same steps on every run: reports stay comparable


def test_every_given_by_the_user_is_exact() -> None:
    agent = Watcher(None, "train.py", every=7)  # type: ignore[arg-type]
    assert {agent.next_interval() for _ in range(50)} == {7}
    assert Watcher(None, "train.py").every == MIN_EVERY  # type: ignore[arg-type]
