"""``netscope.open(model, x)`` from a real script in a pseudo-terminal: the app fills its tree,
exports HTML, and ``q`` returns to the script with 0, the model untouched."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import torch
from torch import nn
import netscope

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
model.train()
before = {k: v.clone() for k, v in model.state_dict().items()}
status = netscope.open(model, torch.randn(4, 20))
same = all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
print(f"returned {status}, same {same}, training {model.training}")
"""


@pytest.mark.slow
def test_open_runs_the_app_in_a_terminal_and_returns(tmp_path: Path) -> None:
    script = tmp_path / "open_model.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="36", PYTHONPATH=str(REPO))
    child = pexpect.spawn(
        sys.executable, [str(script)], cwd=str(tmp_path), env=env,
        dimensions=(36, 120), encoding="utf-8", timeout=90,
    )  # fmt: skip
    try:
        child.expect("Sequential")  # the root row: the tree has filled
        child.expect("Linear")
        child.send("e")  # export dialog, default HTML name in the current directory
        child.expect("Export report")
        child.send("\r")
        child.expect("Wrote HTML report")
        child.send("q")
        child.expect("returned 0, same True, training True", timeout=30)
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    html = (tmp_path / "netscope-Sequential.html").read_text()
    assert "&lt;in-memory Sequential&gt;" in html and "Linear" in html
