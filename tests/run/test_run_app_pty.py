"""`netscope run script.py` in a pseudo-terminal: tree, output, phases, the loop's sync, q stops
the script and keeps the records, e exports them, q quits with the script's status."""

from __future__ import annotations

import os
import shutil
import sys

import pexpect
import pytest

from tests.run.helpers import SCRIPTS, line_of

pytestmark = pytest.mark.slow


def _spawn(tmp_path, script: str, argv: list[str], timeout: float = 120) -> pexpect.spawn:
    """``netscope run ...`` in a 140x44 pseudo-terminal, on a copy of ``script``."""
    shutil.copy(SCRIPTS / script, tmp_path / script)
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="140", LINES="44")
    return pexpect.spawn(
        sys.executable, ["-m", "netscope", "run", *argv],
        cwd=str(tmp_path), env=env, dimensions=(44, 140), encoding="utf-8", timeout=timeout,
    )  # fmt: skip


def test_run_app_shows_the_loop_then_stops_and_exports(tmp_path):
    child = _spawn(tmp_path, "train_cnn.py", ["train_cnn.py", "--epochs", "500"])
    sync_at = line_of("train_cnn.py", "{loss.item()")
    try:
        child.expect("SmallCNN")  # the tree has the script's model
        child.expect("epoch 0 step")  # the script's own output, in the log panel
        child.expect("forward")  # the phases bar's legend
        child.expect(rf"syncs/step 1 \(\.item\(\) at {sync_at}")
        child.send("q")  # stop the script: SIGINT
        child.expect("stopped")
        child.send("e")
        child.expect("Export report")
        child.send("\r")
        child.expect("Exported")  # the notification's title
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130  # the script's status: interrupted
    html = (tmp_path / "netscope-train_cnn.html").read_text()  # the default format
    assert "netscope run: train_cnn.py --epochs 500" in html
    assert "stopped (exit 130)" in html
    assert f"<code>{sync_at}</code>" in html and "SmallCNN" in html


def test_run_app_shows_a_crash_at_the_scripts_line(tmp_path):
    child = _spawn(tmp_path, "raises.py", ["raises.py"])
    where = line_of("raises.py", "raise ValueError")
    try:
        child.expect("ValueError: bad batch at step 5")  # the traceback, in the output panel
        child.expect(f"crashed at {where}")  # the title and status line
        child.send("q")  # the script has ended: q quits at once
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 1  # the script's status


def test_stopping_a_job_of_ranks_quits_with_130_as_a_single_run_does(tmp_path):
    """q stops torchrun and its ranks, a second q quits: the status says the user stopped it
    (130), as ``netscope run script.py`` does, not torchrun's own status (1)."""
    child = _spawn(tmp_path, "forever.py", ["--nproc-per-node", "2", "forever.py"], 180)
    try:
        child.expect("sampled steps")  # the ranks are in their loop
        child.send("q")  # stop torchrun: SIGINT to its ranks
        child.expect("Stopping torchrun")
        for _ in range(30):  # q again quits once the job has ended (before: it stops again)
            child.send("q")
            if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=3) == 0:
                break
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
