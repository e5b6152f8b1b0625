"""Typed messages the profiling worker streams to its parent (the app or the report command).

Every message is a frozen dataclass and pickles across the process boundary. The stream for one
session is: Progress* -> [StructureReady -> Progress*] -> SnapshotReady ->
(TimingSample | SystemSample | Progress)* -> TimingDone* -> BlockTimings* -> CopiesFound ->
SyncsFound -> GilMeasured -> Finished, or WorkerError at any point (then the stream ends).
StructureReady comes only when the session asked for a preview (the app does). With a
ReportRequest (engine/worker/request.py, ``netscope report -o``) the worker writes the file
itself: no SnapshotReady, and ReportWritten comes just before Finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the report command's parent never loads the data model
    from netscope.engine.model import (
        BlockTiming,
        CopyFinding,
        GilReport,
        Profile,
        Snapshot,
        SyncFinding,
        SystemSample,
        TimingSummary,
    )


@dataclass(frozen=True)
class Progress:
    stage: str  # "importing torch", "building", "example forward", "backward", "profiling cpu" ...
    detail: str = ""


@dataclass(frozen=True)
class StructureReady:
    """The model's tree right after it is built: blocks, classes, parameter shapes, ties.

    No forward ran yet: calls, outputs, statistics and gradients are None until SnapshotReady
    brings the full snapshot (the same blocks, unless the forward materialized lazy ones)."""

    snapshot: Snapshot


@dataclass(frozen=True)
class SnapshotReady:
    snapshot: Snapshot


@dataclass(frozen=True)
class TimingSample:
    device: str
    iteration: int
    ms: float


@dataclass(frozen=True)
class TimingDone:
    summary: TimingSummary


@dataclass(frozen=True)
class BlockTimings:
    device: str
    rows: tuple[BlockTiming, ...]


@dataclass(frozen=True)
class CopiesFound:
    rows: tuple[CopyFinding, ...]


@dataclass(frozen=True)
class SyncsFound:
    rows: tuple[SyncFinding, ...]


@dataclass(frozen=True)
class GilMeasured:
    report: GilReport


@dataclass(frozen=True)
class SystemSampled:
    sample: SystemSample


@dataclass(frozen=True)
class Finished:
    profile: Profile | None  # None when only a snapshot was asked for, or for a ReportRequest


@dataclass(frozen=True)
class ReportWritten:
    """The worker wrote the report of a ReportRequest (then Finished(None) ends the stream)."""

    path: str
    fmt: str


@dataclass(frozen=True)
class WorkerError:
    """The worker failed: raised, crashed, ran out of memory, hung or was cancelled."""

    message: str
    stage: str = ""
    location: str | None = None  # user's "file.py:LINE" where the fault is in user code
    library_location: str | None = None  # the installed library's line below it, if any
    traceback_tail: str = ""
    exit_code: int | None = None
    hint: str | None = None  # what to do about it (NetscopeError.hint)
    path: str | None = None  # the file the error is about (NetscopeError.path)


WorkerMessage = (
    Progress
    | StructureReady
    | SnapshotReady
    | TimingSample
    | TimingDone
    | BlockTimings
    | CopiesFound
    | SyncsFound
    | GilMeasured
    | SystemSampled
    | ReportWritten
    | Finished
    | WorkerError
)
