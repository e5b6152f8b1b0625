"""The worker's side: a spawned process that loads the target itself and streams messages.

The parent (app or CLI) never imports the user's model: a model that crashes, hangs or exhausts
memory takes down only this process. Everything the worker and the user's code print goes to a
log file the parent reads back when the worker fails (its tail goes into the error).
"""

from __future__ import annotations

import faulthandler
import gc
import math
import os
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

from netscope.engine.errors import NetscopeError, traceback_tail, wrap_user_error
from netscope.engine.model import Profile, Snapshot
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler.messages import (
    Finished,
    Progress,
    ReportWritten,
    SnapshotReady,
    StructureReady,
    SystemSampled,
    TimingSample,
    WorkerError,
    WorkerMessage,
)
from netscope.engine.worker.request import ReportRequest, WorkerRequest

LIVE_SAMPLE_S = 0.05  # one live sample spans at least this long: a readable stream, not a flood
LIVE_DUTY = 0.1  # after the measurements, live timing keeps the CPU this busy (unless continuous)
LIVE_MAX_IDLE_S = 2.0  # ... but a new sample arrives at least this often


def _redirect_output(log_path: str) -> None:
    """Send fd 1 and 2 (Python and native writers alike) to the log; crash dumps too."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    faulthandler.enable(file=sys.stderr, all_threads=False)


def worker_main(request: WorkerRequest, queue: Any, paused: Any, log_path: str) -> None:
    """Entry point of the spawned process; ends with Finished or WorkerError on ``queue``.

    With ``request.preview`` the model's structure (StructureReady) is sent as soon as it is
    built."""
    _redirect_output(log_path)
    stage = ["starting"]

    def emit(message: WorkerMessage) -> None:
        if isinstance(message, Progress):  # an error names the stage it happened in
            stage[0] = message.detail or message.stage
        queue.put(message)

    def progress(name: str) -> None:
        emit(Progress(name))

    code = 0
    try:
        _run(request, emit, progress, paused)
    except BaseException as exc:  # the user's code may raise anything, MemoryError included
        code = 1
        failed = f"{stage[0]} failed"
        error = exc if isinstance(exc, NetscopeError) else wrap_user_error(exc, failed)
        emit(
            WorkerError(
                error.message,
                stage=stage[0],
                location=error.location,
                library_location=error.library_location,
                traceback_tail=error.traceback_tail or traceback_tail(error, users_only=True),
                hint=error.hint,
                path=error.path,
            )
        )
    finally:
        queue.close()
        queue.join_thread()
    # Every message is delivered: leave without the interpreter's teardown, which takes a second
    # or more with torch loaded and would outlast the parent's wait for the exit code.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(
    request: WorkerRequest,
    emit: Callable[[WorkerMessage], None],
    progress: Callable[[str], None],
    paused: Any,
) -> None:
    load, prof, report = request.load, request.prof, request.report
    if report is not None and not request.profile and not request.preview:
        from netscope.engine.gc_hold import gc_paused

        with gc_paused():
            _report_alone(request, report, emit, progress)
        return
    progress("importing torch")
    from netscope.engine.gc_hold import gc_paused
    from netscope.engine.load.target import load_target

    with gc_paused():  # 20,000 Linear blocks: 4 full collections walked them as they were built
        loaded = load_target(load, progress)  # (0.25 s of a 1.3 s build, one thread)
    if request.preview:  # the tree first, only what needs no forward; the profiler's imports after
        from netscope.engine.snapshot.structure import structure_snapshot

        structure = structure_snapshot(loaded)
        if structure is not None:
            emit(StructureReady(structure))
    if request.profile:
        # Before the snapshot's backward: the stand-in GPU registers when the profiler is
        # imported, and torch's autograd engine sizes its device queues at the first backward.
        # A report without --profile skips these imports (torch.fx among them: 0.15 s).
        from netscope.engine.profiler import runner  # noqa: F401
    from netscope.engine.api import snapshot_loaded

    snapshot = snapshot_loaded(loaded, progress)
    if report is not None:  # netscope report -o: the file is written here, no snapshot is sent
        result = _profile_for_report(loaded, prof, emit) if request.profile else None
        result = with_rates(result, snapshot, load, prof) if result is not None else None
        del loaded  # the model's memory goes before the report's (20,000 blocks: peak -70 MB)
        gc.collect()
        _write_report(snapshot, result, emit, progress, report)
        return
    emit(SnapshotReady(snapshot))
    if not request.profile:
        emit(Finished(None))
        return
    from netscope.engine.profiler.runner import profile_target
    from netscope.engine.profiler.system import SystemSampler

    sampler = SystemSampler()
    try:
        result = with_rates(profile_target(loaded, prof, emit, sampler), snapshot, load, prof)
        emit(Finished(result))
        if request.live:
            progress("live")
            _live(loaded, prof, emit, paused, sampler)
    finally:
        sampler.close()


def _report_alone(
    request: WorkerRequest,
    report: ReportRequest,
    emit: Callable[[WorkerMessage], None],
    progress: Callable[[str], None],
) -> None:
    """``netscope report -o`` without --profile, run by ``_run`` with the cyclic collector off.

    Nothing here needs it: the imports, the build and netscope's own objects make no garbage
    cycles worth a walk, and the model goes by its last reference, or by one full collection
    when a cycle holds it (its memory goes before the report's). With the collector on, its
    walks of the torch import's, the model's and then the snapshot's objects found nothing to
    free but netscope's counters (20,000 blocks: ~1,000,000 objects, ~0.25 s a walk). The
    snapshot lives to the end: frozen, no collection walks it again.
    """
    progress("importing torch")
    from netscope.engine.api import snapshot_loaded
    from netscope.engine.load.target import load_target

    loaded = load_target(request.load, progress)
    snapshot = snapshot_loaded(loaded, progress)
    held = _weak_refs(loaded, loaded.model)
    del loaded
    if held is None or any(ref() is not None for ref in held):
        gc.collect()
    gc.freeze()
    _write_report(snapshot, None, emit, progress, report)


def _weak_refs(*objects: Any) -> list[weakref.ref[Any]] | None:
    """Weak references to ``objects`` (None left out); None when one cannot be referenced."""
    try:
        return [weakref.ref(value) for value in objects if value is not None]
    except TypeError:
        return None


def with_rates(
    result: Profile, snapshot: Snapshot, load: LoadOptions, prof: ProfileOptions
) -> Profile:
    """The step's counted FLOPs over its measured time: FLOP/s and MFU per device."""
    from netscope.engine.compute.mfu import with_rates as rates

    return rates(result, snapshot, load.train, prof.peak_tflops)


def _profile_for_report(
    loaded: Any, prof: ProfileOptions, emit: Callable[[WorkerMessage], None]
) -> Profile:
    from netscope.engine.profiler.runner import profile_target
    from netscope.engine.profiler.system import SystemSampler

    sampler = SystemSampler()
    try:
        return profile_target(loaded, prof, emit, sampler)
    finally:
        sampler.close()


def _write_report(
    snapshot: Snapshot,
    result: Profile | None,
    emit: Callable[[WorkerMessage], None],
    progress: Callable[[str], None],
    report: ReportRequest,
) -> None:
    """Write the report here (atomically, as the CLI would); only its path goes to the parent."""
    progress("writing the report")
    report.write(report.path, snapshot, result, report.fmt)
    emit(ReportWritten(report.path, report.fmt))
    emit(Finished(None))


def _live(
    loaded: Any,
    prof: ProfileOptions,
    emit: Callable[[WorkerMessage], None],
    paused: Any,
    sampler: Any,
) -> None:
    """Keep timing the step until the parent cancels; idle while ``paused`` is set."""
    import torch

    from netscope.engine.profiler.runner import (
        SYSTEM_EVERY_S,
        detection_device,
        resolve_devices,
        step_for,
    )
    from netscope.engine.profiler.timing import measure_once

    device = detection_device(resolve_devices(prof.devices))
    with step_for(loaded, prof, device) as step:
        torch_device = torch.device(device)
        step_s = max(measure_once(step.run, torch_device), 1e-6)
        inner = min(1000, max(1, math.ceil(LIVE_SAMPLE_S / step_s)))
        iteration = 0
        last_system = time.perf_counter()
        while True:
            if paused.is_set():
                time.sleep(0.05)
                continue
            iteration += 1
            began = time.perf_counter()
            ms = measure_once(step.run, torch_device, inner) * 1000.0
            emit(TimingSample(device, iteration, ms))
            if not prof.continuous:  # settle: the measurements are done, leave the CPU alone
                busy = time.perf_counter() - began
                time.sleep(min(LIVE_MAX_IDLE_S, busy * (1 - LIVE_DUTY) / LIVE_DUTY))
            if time.perf_counter() - last_system >= SYSTEM_EVERY_S:
                last_system = time.perf_counter()
                emit(SystemSampled(sampler.sample()))
