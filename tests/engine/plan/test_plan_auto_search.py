"""``--checkpoint auto``'s search: the fewest blocks that fit, as plain bisection finds them,
in fewer replays when each checkpointed block frees about the same bytes."""

from __future__ import annotations

import math
from collections.abc import Callable

from netscope.engine.plan.auto import fewest_that_fit


def _counted(peak: Callable[[int], int]) -> tuple[Callable[[int], int], list[int]]:
    asked: list[int] = []

    def counted(k: int) -> int:
        asked.append(k)
        return peak(k)

    return counted, asked


def test_the_search_finds_the_fewest_that_fit_on_straight_and_curved_peaks() -> None:
    shapes = {
        "straight": lambda k, n: 1000 * (n - k),
        "convex": lambda k, n: 1000 * (n - k) ** 2,
        "concave": lambda k, n: int(1000 * math.sqrt(n - k)),
        "step": lambda k, n: 5000 if k < n // 3 else 10,
    }
    for name, shape in shapes.items():
        for n in range(1, 41):
            peaks = [shape(k, n) for k in range(n + 1)]
            for usable in sorted(set(peaks))[:-1]:
                if peaks[n] > usable:
                    continue
                expected = next(k for k in range(1, n + 1) if peaks[k] <= usable)
                peak, asked = _counted(lambda k, n=n, shape=shape: shape(k, n))
                assert fewest_that_fit(peak, usable, n) == expected, (name, n, usable)
                assert set(asked) <= set(range(n + 1))
                bisection = math.ceil(math.log2(n)) if n > 1 else 0
                assert len(set(asked) - {0, n}) <= 2 * bisection + 2, (name, n, usable, asked)


def test_equal_blocks_take_two_replays_where_bisection_takes_seven() -> None:
    # 80 blocks, each checkpointed one frees 1 GiB: 100 GiB with none, 20 GiB with all
    gib = 2**30
    peak, asked = _counted(lambda k: (100 - k) * gib)
    assert fewest_that_fit(peak, 60 * gib + 1, 80) == 40
    assert sorted(set(asked) - {0, 80}) == [39, 40]
