"""netscope's side of a torchrun job: the collector, and (for ``netscope run --nproc-per-node``)
torchrun itself.

``DistSession(target, args, nproc_per_node=N)`` starts a collector on a free local port, then
``python -m torch.distributed.run --nproc-per-node N --master-addr 127.0.0.1 --master-port FREE
-m netscope.rank script.py ...`` with ``NETSCOPE_COLLECTOR`` set: torch's own launcher, the
watcher in every rank. ``DistSession(collect_only=True, listen=HOST:PORT)`` only listens (``netscope
collect``): the ranks come from torchrun invocations the user runs. ``pump`` feeds every message
into ``recorder`` (a ``RanksRecorder``); the session has ended when torchrun exited and every
rank that connected closed (collect: every rank of the world). Importing this does not import
torch.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import IO, Any

from netscope.engine.run.messages import ScriptOutput
from netscope.engine.run.rank_server import RankServer
from netscope.engine.run.ranks import RanksRecorder
from netscope.engine.run.session import exit_status
from netscope.engine.run.stopping import ScriptStopper

DRAIN_S = 5.0  # after torchrun exits, the ranks' connections get this long to close
OUTPUT_LINES = 2000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DistSession:
    def __init__(
        self,
        target: str | None = None,
        args: list[str] | tuple[str, ...] = (),
        *,
        module: bool = False,
        nproc_per_node: int = 1,
        every: int | None = None,
        listen: str = "127.0.0.1:0",
        collect_only: bool = False,
        capture_output: bool = False,
    ) -> None:
        self.target, self.args, self.module = target, list(args), module
        self.nproc, self.every, self.collect_only = nproc_per_node, every, collect_only
        self.capture_output = capture_output
        host, _, port = listen.rpartition(":")
        self.collector = RankServer(host or "127.0.0.1", int(port or 0))
        self.recorder = RanksRecorder(self.argv)
        self.process: subprocess.Popen[bytes] | None = None
        self.output: deque[ScriptOutput] = deque(maxlen=OUTPUT_LINES)
        self._exited_at: float | None = None
        self._stopper = ScriptStopper(lambda: self.process, kill_group=True)
        self._ended = False
        self.master_port: int | None = None
        self._seen: set[int] = set()  # ranks that connected
        self._closed: set[int] = set()  # ranks whose connection closed
        self._world = 0

    @property
    def argv(self) -> tuple[str, ...]:
        if self.target is None:
            return ()
        return (*(["-m"] if self.module else []), self.target, *self.args)

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def address(self) -> str:
        return self.collector.address

    def command(self) -> list[str]:
        assert self.target is not None and self.master_port is not None
        every = ["--every", str(self.every)] if self.every is not None else []
        return [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            str(self.nproc),
            "--nnodes",
            "1",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(self.master_port),
            "-m",
            "netscope.rank",
            *every,
            *self.argv,
        ]

    def start(self) -> None:
        address = self.collector.start()  # OSError names the address
        if self.collect_only:
            return
        self.master_port = free_port()
        env = dict(os.environ, NETSCOPE_COLLECTOR=address)
        out = None
        if self.capture_output:
            env["PYTHONUNBUFFERED"] = "1"
            out = subprocess.PIPE
        self.process = subprocess.Popen(
            self.command(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,  # its own group: stopped and killed as one tree
        )
        if out is not None:
            assert self.process.stdout is not None
            threading.Thread(
                target=self._read_output, args=(self.process.stdout,), daemon=True
            ).start()

    def _read_output(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.output.append(ScriptOutput("stdout", line))

    def poll(self, timeout: float) -> tuple[Any, Any] | None:
        """The next ``(hello, message)`` (message None: that rank's connection closed), or None.

        Safe from a worker thread: it tracks connections itself and never touches ``recorder``
        (fold the items with ``recorder.feed`` in one thread; ``pump`` does both)."""
        if self._ended:
            return None
        self._stopper.escalate()
        item = self.collector.poll(timeout)
        if item is not None:
            hello, message = item
            self._world = max(self._world, hello.world_size)
            (self._closed if message is None else self._seen).add(hello.rank)
        self._check_end()
        return item

    def pump(self, timeout: float) -> int:
        """Feed what arrived within ``timeout`` seconds into ``recorder``; how many messages."""
        count = 0
        deadline = time.monotonic() + max(timeout, 0.0)
        while not self._ended and count <= 1000:
            item = self.poll(max(deadline - time.monotonic(), 0.0) if not count else 0)
            if item is None:
                break
            self.recorder.feed(*item)
            count += 1
        if self._ended:
            self.recorder.close_silent(self.returncode)
        return count

    @property
    def all_closed(self) -> bool:
        return bool(self._seen) and self._closed >= self._seen

    def _check_end(self) -> None:
        if self._ended:
            return
        if self.collect_only:
            complete = self.all_closed and len(self._seen) >= self._world
            if complete or (self._stopper.requested and self.all_closed):
                self._conclude()
            return
        process = self.process
        if process is None or process.poll() is None:
            return
        if self._exited_at is None:
            self._exited_at = time.monotonic()
        if self.all_closed or time.monotonic() - self._exited_at > DRAIN_S:
            self._conclude()

    def _conclude(self) -> None:
        self._ended = True
        self.collector.close()

    @property
    def returncode(self) -> int | None:
        if self.process is None or self.process.returncode is None:
            return None
        return exit_status(self.process.returncode)

    def stop(self) -> None:
        """q / Ctrl+C: SIGINT to torchrun (it passes it on to the ranks), SIGTERM after a grace
        period, then SIGKILL to its whole group. Collect only: stop waiting for more ranks."""
        self._stopper.request()
        if self.collect_only and not self._seen:
            self._conclude()

    def close(self) -> None:
        """Nothing left running: torchrun and its ranks (its process group), the collector."""
        process = self.process
        self._stopper.stop_and_wait()
        if process is not None:  # ranks torchrun left behind, if any
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        self.collector.close()
        self._ended = True
