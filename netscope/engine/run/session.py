"""netscope's side of ``netscope run``: start the script's process, read its messages, stop it.

Importing this module does not import torch. ``RunSession.poll`` returns the child's messages,
the script's output lines (when ``capture_output``: the app shows them; otherwise they pass
through to the terminal unchanged), system samples of the script's process, and always ends with
one ``ScriptEnded``: the child's own, or one made here from its exit status when it died without
a word (a crash, the out-of-memory killer, SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from typing import IO, Any

from netscope.engine.model import ScriptError
from netscope.engine.run.channel import receive
from netscope.engine.run.messages import (
    RunMessage,
    ScriptEnded,
    ScriptOutput,
    SystemSampled,
)
from netscope.engine.run.stopping import ScriptStopper

SYSTEM_EVERY_S = 1.0
TAIL_LINES = 30
DRAIN_S = 2.0  # after the script's last message, its output streams get this long to close
_EOF = object()


def exit_status(code: int | None) -> int:
    """The shell's view of a child's status: a signal N reads as 128 + N."""
    if code is None:
        return 1
    return 128 - code if code < 0 else code


class _ProcessSampler:
    """psutil readings of the script's process, taken from outside it."""

    def __init__(self, pid: int) -> None:
        import psutil

        from netscope.engine.profiler.system import open_nvml

        self._began = time.perf_counter()
        try:
            self._process: Any = psutil.Process(pid)
            self._process.cpu_percent(None)
        except Exception:
            self._process = None
        psutil.cpu_percent(None, percpu=True)
        self._nvml = open_nvml()

    def sample(self) -> Any:
        import psutil

        from netscope.engine.model import SystemSample
        from netscope.engine.profiler.system import gpu_samples

        process = self._process
        cpu = rss = None
        if process is not None:
            with contextlib.suppress(Exception):
                # an ended script is a zombie until reaped: psutil reads 0 B and a stale CPU%
                # there, which would be fake numbers, so they are "not available"
                if process.status() != psutil.STATUS_ZOMBIE:
                    cpu = process.cpu_percent(None)
                    rss = process.memory_info().rss
        cores: tuple[float, ...] = ()
        with contextlib.suppress(Exception):
            cores = tuple(float(c) for c in psutil.cpu_percent(None, percpu=True))
        return SystemSample(
            time_s=time.perf_counter() - self._began,
            process_cpu_percent=cpu,
            rss_bytes=rss,
            per_core_percent=cores,
            gpus=gpu_samples(self._nvml),
        )

    def close(self) -> None:
        from netscope.engine.profiler.system import close_nvml

        close_nvml(self._nvml)
        self._nvml = None


class RunSession:
    """One run of a script (``module=True``: ``python -m target``) under netscope's watcher."""

    def __init__(
        self,
        target: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        module: bool = False,
        capture_output: bool = False,
        every: int | None = None,
        system: bool = True,
    ) -> None:
        self.target, self.args, self.module = target, list(args), module
        self.capture_output, self.every, self.system = capture_output, every, system
        self.process: subprocess.Popen[bytes] | None = None
        self._queue: queue.Queue[Any] = queue.Queue()
        self._readers: list[threading.Thread] = []
        self._open_streams = 0
        self._ended = False
        self._channel_done = False
        self._stopper = ScriptStopper(lambda: self.process)
        self._sampler: _ProcessSampler | None = None
        self._last_system = 0.0
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._end_message: ScriptEnded | None = None
        self._end_seen = 0.0

    @property
    def argv(self) -> tuple[str, ...]:
        return (*(["-m"] if self.module else []), self.target, *self.args)

    @property
    def ended(self) -> bool:
        return self._ended

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        command = [sys.executable, "-m", "netscope.engine.run.child", str(write_fd)]
        if self.every is not None:
            command += ["--every", str(self.every)]
        command += ["--module" if self.module else "--script", self.target, *self.args]
        env = dict(os.environ)
        out = None
        if self.capture_output:
            env["PYTHONUNBUFFERED"] = "1"  # the log panel shows lines as they are printed
            out = subprocess.PIPE
        try:
            self.process = subprocess.Popen(
                command, pass_fds=(write_fd,), stdout=out, stderr=out, env=env
            )
        finally:
            os.close(write_fd)
        self._reader(self._read_channel, read_fd)
        if self.capture_output:
            assert self.process.stdout is not None and self.process.stderr is not None
            self._open_streams = 2
            self._reader(self._read_stream, self.process.stdout, "stdout")
            self._reader(self._read_stream, self.process.stderr, "stderr")
        if self.system:
            self._sampler = _ProcessSampler(self.process.pid)
            self._last_system = time.perf_counter()

    def _reader(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name="netscope-run-reader", daemon=True)
        thread.start()
        self._readers.append(thread)

    def _read_channel(self, fd: int) -> None:
        try:
            while True:
                self._queue.put(receive(fd))
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a message that cannot be read: say so, keep the run
            from netscope.engine.run.messages import RunNote

            self._queue.put(RunNote(f"netscope lost its link to the script: {exc}"))
        finally:
            os.close(fd)
            self._queue.put(_EOF)

    def _read_stream(self, stream: IO[bytes], name: str) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._queue.put(ScriptOutput(name, line))
        finally:
            stream.close()
            self._queue.put(("stream-closed", name))

    def poll(self, timeout: float) -> RunMessage | None:
        """The next message, or None when none came within ``timeout`` seconds."""
        if self._ended or self.process is None:
            return None
        self._stopper.escalate()
        system = self._system_due()
        if system is not None:
            return system
        if self._end_message is not None and self._drained():
            return self._conclude(self._end_message)
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return self._died()
        if item is _EOF:
            self._channel_done = True
            return self._died()
        if isinstance(item, tuple):  # one of the script's output streams closed
            self._open_streams -= 1
            return None
        if isinstance(item, ScriptOutput):
            self.tail.append(item.line)
        if isinstance(item, ScriptEnded):  # its last output lines may still be on their way
            self._end_message = item
            self._end_seen = time.monotonic()
            return None
        return item

    def _drained(self) -> bool:
        if self._channel_done and self._open_streams <= 0:
            return True
        process = self.process
        gone = process is not None and process.poll() is not None
        return gone and time.monotonic() - self._end_seen > DRAIN_S

    def _conclude(self, item: ScriptEnded) -> ScriptEnded:
        self._ended = True
        self._finish()
        if self._stopper.requested and not item.stopped:
            item = ScriptEnded(item.exit_code, item.error, stopped=True)
        return item

    def _system_due(self) -> SystemSampled | None:
        if self._sampler is None or self._ended:
            return None
        now = time.perf_counter()
        if now - self._last_system < SYSTEM_EVERY_S:
            return None
        self._last_system = now
        return SystemSampled(self._sampler.sample())

    def _died(self) -> ScriptEnded | None:
        """A ScriptEnded made here when the process is gone and its last message never came."""
        process = self.process
        if process is None or not self._channel_done or self._end_message is not None:
            return None
        if process.poll() is None:
            return None
        code = process.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            error = ScriptError("signal", f"the script's process was killed by {name}", None)
        else:
            error = ScriptError("exit", f"the script's process exited with code {code}", None)
        return self._conclude(ScriptEnded(code, error, stopped=self._stopper.requested))

    def _finish(self) -> None:
        process = self.process
        if process is not None:
            try:
                process.wait(timeout=30.0)
            except subprocess.TimeoutExpired:
                self._stopper.kill()
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def stop(self) -> None:
        """Ask the script to stop: SIGINT now, SIGTERM after a grace period, then SIGKILL."""
        if self.process is None or self._ended or self.process.poll() is not None:
            return
        self._stopper.request()

    def close(self) -> None:
        """Make sure nothing is left running (the app quits, the CLI errs)."""
        self._stopper.stop_and_wait()
        self._ended = True
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
