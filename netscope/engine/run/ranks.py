"""Fold several ranks' messages into one ``RunReport``: each rank's own run, and the run-wide
rank summary (``straggler``, ``skew_pct``, ``world_size``).

Each rank is folded with the one-process ``RunRecorder``; its ``wait_ms`` is taken over the same
steps as its ``step_ms`` (those not sampled for detection). The straggler is the rank whose busy
time (median step minus median wait) is largest: the others wait for it. ``skew_pct`` is the
spread of the ranks' median waits (largest minus smallest) as a percentage of the median step;
under ``STRAGGLER_MIN_PCT`` no rank is named.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from netscope.engine.model import RankRun, RunReport, RunState, ScriptError
from netscope.engine.run.aggregate import RunRecorder, median, spread
from netscope.engine.run.collective_stats import (
    by_step,
    collective_stats,
    exposed_all_gather_notes,
)
from netscope.engine.run.messages import ScriptEnded
from netscope.engine.run.rank_messages import (
    CollectiveRecord,
    RankHello,
    StepCollectives,
    StepWaits,
)

STRAGGLER_MIN_PCT = 5.0


class RankRecorder:
    """One rank: its hello, its ``RunRecorder`` and its wait per step."""

    def __init__(self, hello: RankHello) -> None:
        self.hello = hello
        self.recorder = RunRecorder()
        self.waits: dict[tuple[str, int], float] = {}
        self.collectives: list[CollectiveRecord] = []
        self.closed = False  # its connection closed
        self.ended_at: float | None = None  # when its ScriptEnded came (the first crash wins)

    def feed(self, message: Any) -> None:
        if isinstance(message, StepWaits):
            for boundary, index, ms in message.records:
                self.waits[(boundary, index)] = ms
        elif isinstance(message, StepCollectives):
            self.collectives.extend(message.records)
        elif isinstance(message, RankHello):
            return
        else:
            if isinstance(message, ScriptEnded) and self.ended_at is None:
                self.ended_at = time.monotonic()
            self.recorder.feed(message)

    def summary(self) -> RankRun:
        recorder = self.recorder
        report = recorder.report()
        plain = [r for r in recorder.steps if not r[6]] or list(recorder.steps)
        boundary = recorder.boundary or ""
        plain_keys = [(boundary, r[0]) for r in plain]
        steps = [(boundary, r[0]) for r in recorder.steps]
        counted = steps[1:] or steps  # the first step's one-time work (FSDP's lazy init) left out
        waits = [self.waits[key] for key in plain_keys if key in self.waits]
        wait = spread(waits)
        busy = None
        if report.step_ms is not None and wait is not None:
            busy = max(report.step_ms.median - wait.median, 0.0)
        hello = self.hello
        return RankRun(
            rank=hello.rank,
            host=hello.host,
            local_rank=hello.local_rank,
            node_rank=hello.node_rank,
            report=report,
            wait_ms=wait,
            busy_ms=busy,
            collectives=collective_stats(by_step(self.collectives), counted, plain_keys),
        )


def straggler_of(ranks: list[RankRun]) -> tuple[int | None, float | None]:
    """(the straggler's rank or None, skew_pct or None when fewer than two ranks have waits)."""
    measured = [r for r in ranks if r.busy_ms is not None and r.wait_ms is not None]
    steps = [r.report.step_ms.median for r in measured if r.report.step_ms is not None]
    step = median(steps)
    if len(measured) < 2 or step <= 0:
        return None, None
    waits = [r.wait_ms.median for r in measured if r.wait_ms is not None]
    skew = (max(waits) - min(waits)) / step * 100.0
    if skew < STRAGGLER_MIN_PCT:
        return None, skew
    slowest = max(measured, key=lambda r: (r.busy_ms or 0.0, -r.rank))
    return slowest.rank, skew


class RanksRecorder:
    """Every rank of one job; ``report()`` is rank 0's run with the ranks added."""

    def __init__(self, argv: tuple[str, ...] = ()) -> None:
        self.argv = argv
        self.ranks: dict[int, RankRecorder] = {}
        self.notes: list[str] = []
        self.world_size: int | None = None

    def feed(self, hello: RankHello, message: Any) -> None:
        rank = self.ranks.get(hello.rank)
        if rank is None:
            rank = self.ranks[hello.rank] = RankRecorder(hello)
            self.world_size = max(self.world_size or 0, hello.world_size)
        if message is None:
            rank.closed = True
        else:
            rank.feed(message)

    @property
    def all_closed(self) -> bool:
        return bool(self.ranks) and all(r.closed for r in self.ranks.values())

    @property
    def complete(self) -> bool:
        """Every rank of the world connected and closed."""
        return self.all_closed and len(self.ranks) >= (self.world_size or 0)

    def close_silent(self, exit_code: int | None) -> None:
        """The job is over: a rank that never said how it ended gets an end made here."""
        for rank in self.ranks.values():
            if rank.recorder.state in ("starting", "running"):
                rank.feed(
                    ScriptEnded(
                        exit_code if exit_code not in (None, 0) else 1,
                        ScriptError(
                            "exit",
                            f"rank {rank.hello.rank} ended without reporting how "
                            "(killed, or its process died)",
                            None,
                        ),
                    )
                )

    def report(self, exit_code: int | None = None) -> RunReport:
        if not self.ranks:
            return RunReport(
                argv=self.argv,
                state="crashed" if exit_code else "starting",
                exit_code=exit_code,
                steps=0,
                step_boundary=None,
                step_ms=None,
                phases_ms=None,
                notes=tuple(self.notes) or ("no rank connected to netscope",),
            )
        runs = [self.ranks[k].summary() for k in sorted(self.ranks)]
        straggler, skew = straggler_of(runs)
        base = runs[0].report
        states = [r.report.state for r in runs]
        crashed = self._first_crash()
        state: RunState
        if crashed is not None:
            state = "crashed"
        elif "stopped" in states:
            state = "stopped"
        elif all(s == "finished" for s in states) and len(runs) >= (self.world_size or 0):
            state = "finished"
        else:
            state = base.state
        codes = [r.report.exit_code for r in runs if r.report.exit_code]
        if exit_code is None and state not in ("starting", "running"):
            exit_code = codes[0] if codes else 0
        error = base.error
        if crashed is not None and crashed.error is not None:
            error = replace(crashed.error, message=f"rank {crashed.rank}: {crashed.error.message}")
        notes = [*base.notes, *self.notes, *exposed_all_gather_notes(runs)]
        missing = sorted(set(range(self.world_size or 0)) - set(self.ranks))
        if missing:
            notes.append(f"ranks that never reached netscope: {', '.join(map(str, missing))}")
        for run in runs[1:]:
            notes += [f"rank {run.rank}: {n}" for n in run.report.notes if n not in base.notes]
        return replace(
            base,
            argv=base.argv or self.argv,
            state=state,
            exit_code=exit_code,
            error=error,
            notes=tuple(notes),
            ranks=tuple(runs),
            straggler=straggler,
            skew_pct=skew,
            world_size=self.world_size,
        )

    def _first_crash(self) -> _Crash | None:
        """The rank that crashed first: the others often fail after it (a closed peer)."""
        crashed = [
            r
            for r in self.ranks.values()
            if r.recorder.state == "crashed" and r.recorder.error is not None
        ]
        if not crashed:
            return None
        first = min(crashed, key=lambda r: (r.ended_at or float("inf"), r.hello.rank))
        return _Crash(first.hello.rank, first.recorder.error)


class _Crash:
    __slots__ = ("error", "rank")

    def __init__(self, rank: int, error: ScriptError | None) -> None:
        self.rank, self.error = rank, error
