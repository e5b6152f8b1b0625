"""Stopping a script the way Ctrl+C escalates: SIGINT, then SIGTERM, then a kill.

One routine for ``netscope run`` (the script's own process) and for torchrun (its whole process
group): the app asks without blocking (``request``, then ``escalate`` from its poll loop), the
CLI and ``close`` wait (``stop_and_wait``). Importing this does not import torch.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable

STOP_GRACE_S = 5.0  # after SIGINT, the script gets this long before SIGTERM (and again: SIGKILL)


class ScriptStopper:
    """Escalates the stop of ``process()``; ``kill_group`` kills torchrun's ranks with it."""

    def __init__(
        self,
        process: Callable[[], subprocess.Popen[bytes] | None],
        *,
        kill_group: bool = False,
        grace_s: float = STOP_GRACE_S,
    ) -> None:
        self._process, self._kill_group, self.grace_s = process, kill_group, grace_s
        self._asked_at: float | None = None
        self._step = 0  # 0: SIGINT sent, 1: SIGTERM sent, 2: killed

    @property
    def requested(self) -> bool:
        """Was a stop asked for (the script's end then counts as stopped, not as a failure)?"""
        return self._asked_at is not None

    def request(self) -> None:
        """SIGINT now; each further ask takes the next step (SIGTERM, then the kill) at once."""
        if self._asked_at is None:
            self._asked_at = time.monotonic()
            self.send(signal.SIGINT)
        else:
            self._asked_at = time.monotonic() - (self._step + 1) * self.grace_s
            self.escalate()

    def escalate(self) -> None:
        """Called from a poll loop: SIGTERM one grace period after SIGINT, a kill after two."""
        process = self._process()
        if self._asked_at is None or process is None or process.poll() is not None:
            return
        waited = time.monotonic() - self._asked_at
        if self._step == 0 and waited >= self.grace_s:
            self._step = 1
            self.send(signal.SIGTERM)
        elif self._step == 1 and waited >= 2 * self.grace_s:
            self._step = 2
            self.kill()

    def stop_and_wait(self) -> None:
        """Stop and wait for the end: SIGINT, SIGTERM, then a kill, ``grace_s`` apart."""
        process = self._process()
        if process is None or process.poll() is not None:
            return
        for which in (signal.SIGINT, signal.SIGTERM):
            self.send(which)
            try:
                process.wait(timeout=self.grace_s)
                return
            except subprocess.TimeoutExpired:
                continue
        self.kill()

    def send(self, which: int) -> None:
        process = self._process()
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.send_signal(which)

    def kill(self) -> None:
        """SIGKILL (to the process group with ``kill_group``), then reap it."""
        process = self._process()
        if process is None:
            return
        with contextlib.suppress(OSError):
            if self._kill_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5.0)
