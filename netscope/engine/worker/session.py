"""The parent's side of the worker: start it, read its messages, pause, resume, cancel.

Importing this module does not import torch or the user's model. Failures of the worker
(an exception, a crash, the OOM killer, a hang past ``ProfileOptions.timeout_s``) arrive as one
``WorkerError`` carrying the exit code and the tail of everything the worker printed.

In live mode the worker sends ``Finished(profile)`` after the one-shot measurements and then keeps
streaming ``TimingSample`` / ``SystemSampled`` until cancelled: ``finished`` turns True at
``Finished`` (the measurements are complete) while ``poll`` keeps returning live samples.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queues
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from netscope.engine.errors import NetscopeError
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler.messages import (
    Finished,
    ReportWritten,
    SnapshotReady,
    WorkerError,
    WorkerMessage,
)
from netscope.engine.worker.crash import crash_location, describe_exit, read_tail
from netscope.engine.worker.request import ReportRequest, WorkerRequest

if TYPE_CHECKING:  # the parent process never loads the data model for these
    from netscope.engine.model import Profile, Snapshot

WORKER_STAGE = "worker"  # the stage of errors the parent reports for a worker that died silently
EXIT_GRACE_S = 10.0  # how long a worker that sent its last message gets to exit by itself


class WorkerSession:
    """One profiling (or snapshot-only) run of the worker subprocess."""

    def __init__(
        self,
        load: LoadOptions,
        prof: ProfileOptions,
        *,
        profile: bool = True,
        live: bool = False,
        report: ReportRequest | None = None,
        preview: bool = False,
    ) -> None:
        self.request = WorkerRequest(load, prof, profile, live, report, preview)
        self.load, self.prof, self.profile, self.live = load, prof, profile, live
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None  # multiprocessing's SpawnProcess, once started
        self._queue: Any = None
        self._paused: Any = None
        self._log_path = ""
        self._deadline = 0.0
        self._finished = False
        self._ended = False  # no more messages will come (error, cancel or normal end)

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def pid(self) -> int | None:
        """The worker's process id once started (for system tools and tests)."""
        return None if self._process is None else self._process.pid

    @property
    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.exitcode

    def start(self) -> None:
        from netscope.engine.worker.process import worker_main

        handle, self._log_path = tempfile.mkstemp(prefix="netscope-worker-", suffix=".log")
        os.close(handle)
        self._queue = self._context.Queue()
        self._paused = self._context.Event()
        self._process = self._context.Process(
            target=worker_main,
            args=(self.request, self._queue, self._paused, self._log_path),
            name="netscope-worker",
            daemon=True,
        )
        self._deadline = time.monotonic() + self.prof.timeout_s
        self._process.start()

    def poll(self, timeout: float) -> WorkerMessage | None:
        """The next message, or None when none came within ``timeout`` seconds."""
        if self._ended or self._queue is None:
            return None
        wait = max(0.0, timeout)
        if not self._finished:
            wait = min(wait, max(0.0, self._deadline - time.monotonic()))
        try:
            message = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queues.Empty:
            return self._check_health()
        if isinstance(message, Finished):
            self._finished = True
            if not self.live:
                self._end(wait_for_exit=True)
        elif isinstance(message, WorkerError):
            self._finished = True
            self._end(wait_for_exit=True)
            message = self._with_exit(message)
        return message

    def _check_health(self) -> WorkerError | None:
        process = self._process
        if process is not None and not process.is_alive():
            try:  # the feeder thread may have flushed a last message just before exiting
                return self._queue.get(timeout=0.2)
            except queues.Empty:
                pass
            code = process.exitcode
            return self._fail(f"netscope's worker (running your model) {describe_exit(code)}", code)
        if not self._finished and time.monotonic() >= self._deadline:
            self._stop()
            return self._fail(
                f"netscope's worker (running your model) did not finish within "
                f"{self.prof.timeout_s:g} s and was stopped",
                self.exit_code,
            )
        return None

    def _fail(self, message: str, code: int | None) -> WorkerError:
        tail = read_tail(self._log_path)
        self._finished = True
        self._end(wait_for_exit=False)
        return WorkerError(
            message,
            stage=WORKER_STAGE,
            location=crash_location(tail),
            traceback_tail=tail,
            exit_code=code,
        )

    def _with_exit(self, error: WorkerError) -> WorkerError:
        if error.exit_code is not None or self._process is None:
            return error
        return replace(error, exit_code=self._process.exitcode)

    def pause(self) -> None:
        if self._paused is not None:
            self._paused.set()

    def resume(self) -> None:
        if self._paused is not None:
            self._paused.clear()

    def cancel(self) -> None:
        """Stop the worker now (within 1 s); no more messages after this."""
        self._stop()
        self._finished = True
        self._end(wait_for_exit=False)

    def _stop(self) -> None:
        process = self._process
        if process is None or not process.is_alive():
            return
        process.terminate()
        process.join(0.5)
        if process.is_alive():
            process.kill()
            process.join(0.4)

    def _end(self, *, wait_for_exit: bool) -> None:
        if self._ended:
            return
        self._ended = True
        if wait_for_exit and self._process is not None:
            # The worker exits right after its last message; a loaded machine can take seconds.
            self._process.join(EXIT_GRACE_S)
            if self._process.is_alive():
                self._stop()
        if self._queue is not None:
            self._queue.cancel_join_thread()
            self._queue.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log_path)

    def __enter__(self) -> WorkerSession:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._ended:
            self.cancel()


def app_session(load: LoadOptions, prof: ProfileOptions, profile: bool) -> WorkerSession:
    """A session as the app runs one: the structure first (preview), and, when profiling, live
    step times after the measurements until cancelled."""
    return WorkerSession(load, prof, profile=profile, live=profile, preview=True)


def error_from(message: WorkerError) -> NetscopeError:
    """The worker's failure as the NetscopeError the CLI prints."""
    hint = message.hint
    if message.stage == WORKER_STAGE and message.traceback_tail:  # died without a word
        hint = "last lines the worker printed:\n" + message.traceback_tail
    return NetscopeError(
        message.message,
        location=message.location,
        library_location=message.library_location,
        hint=hint,
        traceback_tail=message.traceback_tail,
        path=message.path,
    )


def run_in_worker(
    load: LoadOptions,
    prof: ProfileOptions,
    on_message: Callable[[WorkerMessage], None] | None = None,
    *,
    profile: bool = True,
) -> tuple[Snapshot, Profile | None]:
    """Snapshot (and, with ``profile``, profile) in a worker; a failed worker raises NetscopeError.

    The user's code never runs in the caller's process: a model that segfaults, exhausts memory
    or hangs gives the same clear error from ``report`` as from the app.
    """
    snapshot: Snapshot | None = None
    with WorkerSession(load, prof, profile=profile) as session:
        while True:
            message = session.poll(0.5)
            if message is None:
                continue
            if on_message is not None:
                on_message(message)
            if isinstance(message, SnapshotReady):
                snapshot = message.snapshot
            elif isinstance(message, WorkerError):
                raise error_from(message)
            elif isinstance(message, Finished):
                if snapshot is None or (profile and message.profile is None):
                    raise NetscopeError("netscope's worker ended without a result")
                return snapshot, message.profile


def report_in_worker(
    load: LoadOptions, prof: ProfileOptions, report: ReportRequest, *, profile: bool
) -> ReportWritten:
    """Snapshot (and, with ``profile``, profile) in a worker that writes the report itself.

    Only the small ReportWritten comes back: the parent never unpickles nor holds the snapshot
    (20,000 tiny blocks: a 21 MB pickle, ~2.5 s both ways, and the parent's memory peak). A
    failed worker (its model, or the write) raises NetscopeError; no file is left then.
    """
    written: ReportWritten | None = None
    with WorkerSession(load, prof, profile=profile, report=report) as session:
        while True:
            message = session.poll(0.5)
            if isinstance(message, ReportWritten):
                written = message
            elif isinstance(message, WorkerError):
                raise error_from(message)
            elif isinstance(message, Finished):
                if written is None:
                    raise NetscopeError("netscope's worker ended without a result")
                return written


def run_profile(
    load: LoadOptions,
    prof: ProfileOptions,
    on_message: Callable[[WorkerMessage], None] | None = None,
) -> tuple[Snapshot, Profile]:
    """Profile in a worker and wait for the result; a failed worker raises NetscopeError."""
    snapshot, profile = run_in_worker(load, prof, on_message)
    assert profile is not None  # run_in_worker raised otherwise
    return snapshot, profile
