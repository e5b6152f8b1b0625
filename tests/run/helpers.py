"""Run ``netscope run -o`` on the scripts in tests/run/scripts and read the report back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def line_of(script: str, text: str) -> str:
    """``script.py:LINE`` of the first line containing ``text``."""
    for number, line in enumerate((SCRIPTS / script).read_text().splitlines(), start=1):
        if text in line:
            return f"{script}:{number}"
    raise AssertionError(f"{text!r} not in {script}")


def run_headless(
    tmp_path: Path, script_and_args: list[str], *, every: int | None = 2, timeout: float = 240
) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "netscope", "run", "-o", str(out)]
    if every is not None:
        command += ["--every", str(every)]
    done = subprocess.run(
        [*command, *script_and_args],
        cwd=SCRIPTS,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.exists(), done.stderr
    return done, json.loads(out.read_text())


LOG_PREFIX = re.compile(r"^[WIE]\d{4} [\d:.]+ \d+ ")  # torch's log lines: time and pid vary


def dynamo_lines(stderr: str) -> list[str]:
    """A compiled script's dynamo counters and every warning line, times and pids left out: what
    must be equal with and without netscope."""
    keep = []
    for line in stderr.splitlines():
        line = LOG_PREFIX.sub("", line)
        if line.startswith("DYNAMO ") or "Warning" in line or "torch._dynamo" in line:
            keep.append(line)
    return keep


def step_losses(stdout: str) -> list[str]:
    """The ``step N loss X`` lines a test script prints."""
    return [line for line in stdout.splitlines() if line.startswith("step ")]


@contextmanager
def watcher_here(every: int | None = None) -> Iterator[Any]:
    """A watcher installed in this process, its messages to /dev/null, as in a script that
    compiled nothing: an earlier test that ran torch.compile here (its frames in dynamo's
    counters) would keep quiet steps and the detectors off."""
    from netscope.engine.run.channel import Sender
    from netscope.engine.run.watcher import Watcher

    utils = sys.modules.get("torch._dynamo.utils")
    frames = utils.counters.pop("frames", None) if utils is not None else None
    sink = os.open(os.devnull, os.O_WRONLY)
    agent = Watcher(Sender(sink), "train.py", every)
    agent.install()
    try:
        yield agent
    finally:
        agent.finish()
        os.close(sink)
        if utils is not None and frames is not None:
            utils.counters["frames"] = frames
