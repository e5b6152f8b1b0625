"""What the parent asks the worker for: one picklable value, read by the worker's entry point.

Importing this module imports neither torch nor the report layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netscope.engine.options import LoadOptions, ProfileOptions

if TYPE_CHECKING:  # the parent process never loads the data model for these
    from netscope.engine.model import Profile, Snapshot


@dataclass(frozen=True)
class ReportRequest:
    """``netscope report -o`` asks the worker to write the file itself, so the snapshot (tens of
    MB for a large model) never crosses to the parent.

    ``write`` is the writer the worker calls, ``write(path, snapshot, profile, fmt)``: the CLI
    passes netscope.report.write.write_report, so the engine never imports the report layer. It
    crosses to the worker by name, so it must be a module-level function."""

    path: str  # absolute
    fmt: str  # one of netscope.report.write.FORMATS
    write: Callable[[str, Snapshot, Profile | None, str], str]


@dataclass(frozen=True)
class WorkerRequest:
    """One run of the worker: the target and its step (``load``), how to measure (``prof``),
    and what to send back."""

    load: LoadOptions
    prof: ProfileOptions
    profile: bool = True  # time the step (else the snapshot alone)
    live: bool = False  # after the measurements, keep timing until cancelled (the app)
    report: ReportRequest | None = None  # write this report; no snapshot is sent then
    preview: bool = False  # StructureReady as soon as the model is built (the app's tree)
