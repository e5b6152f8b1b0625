"""Messages a rank's watcher adds for ``netscope run --nproc-per-node`` and ``netscope collect``.

Over a socket, a rank's first frame is ``RankHello`` (who it is); then the messages of
``messages.py`` as for one process, plus ``StepWaits`` (its wait in collectives, per step) and
``StepCollectives`` (its collectives by kind and block, per step).
"""

from __future__ import annotations

from dataclasses import dataclass

# One step's wait: (boundary, step index, ms spent waiting in collectives during the step)
WaitRecord = tuple[str, int, float]
# One step's collectives of one (kind, via, block): (boundary, step index, kind, via, block,
# calls, ms, exposed ms or None when not told, bytes)
CollectiveRecord = tuple[str, int, str, str, str | None, int, float, float | None, int]


@dataclass(frozen=True)
class RankHello:
    rank: int
    local_rank: int
    world_size: int
    host: str
    node_rank: int
    pid: int


@dataclass(frozen=True)
class StepWaits:
    """Wait in collectives of the steps completed since the last batch (same indices as Steps)."""

    records: tuple[WaitRecord, ...]


@dataclass(frozen=True)
class StepCollectives:
    """Collectives of the steps completed since the last batch (same indices as Steps)."""

    records: tuple[CollectiveRecord, ...]
