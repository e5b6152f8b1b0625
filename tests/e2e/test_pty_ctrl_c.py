"""Ctrl+C in the real app quits as q does: the worker is stopped, and the exit status is 130.

The model files record their worker's process id in build_model(), so the test knows exactly
which process must be gone after the app quits.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pexpect
import psutil
import pytest
from test_pty import _netscope

SLOW = """
import os, time
import torch
from torch import nn


def build_model():
    with open(os.environ["PID_FILE"], "w") as out:
        out.write(str(os.getpid()))
    time.sleep(120)  # "loading": Ctrl+C comes long before this ends
    return nn.Linear(4, 4)


def example_input():
    return torch.rand(2, 4)
"""

FAST = """
import os
import torch
from torch import nn


def build_model():
    with open(os.environ["PID_FILE"], "w") as out:
        out.write(str(os.getpid()))
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))


def example_input():
    return torch.rand(2, 20)
"""


def _spawn(tmp_path: Path, source: str) -> tuple[pexpect.spawn, Path]:
    model = tmp_path / "model.py"
    model.write_text(source)
    pid_file = tmp_path / "worker.pid"
    command = _netscope()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="36", PID_FILE=str(pid_file))
    child = pexpect.spawn(
        command[0], [*command[1:], str(model)], cwd=str(tmp_path), env=env,
        dimensions=(36, 120), encoding="utf-8", timeout=60,
    )  # fmt: skip
    return child, pid_file


def _worker_pid(pid_file: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the worker never ran build_model()"
        time.sleep(0.05)
    return int(pid_file.read_text())


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _interrupt(child: pexpect.spawn, worker: int) -> None:
    assert not _gone(worker)
    child.send("\x03")
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    assert child.signalstatus is None, "the app must exit, not die of SIGINT"
    assert child.exitstatus == 130, child.before
    deadline = time.monotonic() + 5
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(worker), f"worker {worker} still running after Ctrl+C"


@pytest.mark.slow
def test_ctrl_c_while_the_model_loads_quits_with_130_and_stops_the_worker(tmp_path):
    child, pid_file = _spawn(tmp_path, SLOW)
    try:
        worker = _worker_pid(pid_file)  # inside build_model(): the app shows "loading"
        child.expect("loading")
        _interrupt(child, worker)
    finally:
        child.close(force=True)


@pytest.mark.slow
def test_ctrl_c_after_the_model_loaded_quits_with_130_and_stops_the_worker(tmp_path):
    child, pid_file = _spawn(tmp_path, FAST)
    try:
        worker = _worker_pid(pid_file)
        child.expect("Sequential")  # the tree has filled; the live worker keeps timing the step
        child.expect("Linear")
        _interrupt(child, worker)
    finally:
        child.close(force=True)
