"""The real ``netscope`` command in a pseudo-terminal: tree, keys, HTML export, clean quit."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "sample_models" / "mlp.py"


def _netscope() -> list[str]:
    found = shutil.which("netscope")
    return [found] if found else [sys.executable, "-m", "netscope"]


@pytest.mark.slow
def test_netscope_in_a_terminal_exports_html_and_quits(tmp_path):
    command = _netscope()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="36")
    child = pexpect.spawn(
        command[0], [*command[1:], str(MLP)], cwd=str(tmp_path), env=env,
        dimensions=(36, 120), encoding="utf-8", timeout=60,
    )  # fmt: skip
    try:
        child.expect("Sequential")  # the root row: the tree has filled
        child.expect("Linear")
        child.send("j")  # down to the first Linear
        child.send("l")  # expand it: its parameters appear
        child.expect("weight")
        child.send("e")  # export dialog, default HTML name in the current directory
        child.expect("Export report")
        child.send("\r")
        child.expect("Wrote HTML report")
        child.send("q")
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    report = tmp_path / "netscope-mlp.html"
    assert report.exists()
    text = report.read_text()
    assert "Sequential" in text and "Linear" in text
