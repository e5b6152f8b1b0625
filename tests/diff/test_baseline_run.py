"""``netscope run --baseline run.json``: the loop's step time, phases, FLOPs per step, memory and
syncs against an earlier run report of the same (unmodified) script, in real subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

LOOP = """
import sys
import time
import torch

width, sleep_s, sync = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "sync"
steps = int(sys.argv[4])
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, width), torch.nn.ReLU(), torch.nn.Linear(width, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(steps):
    loss = model(torch.randn(8, 16)).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    time.sleep(sleep_s)
    if sync:
        print(loss.item())  # the new sync
"""


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "run", "--every", "8", *args],
        cwd=folder, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run_baseline")
    (folder / "loop.py").write_text(LOOP.lstrip())
    done = _run(folder, "-o", "base.json", "loop.py", "32", "0.005", "no", "80")
    assert done.returncode == 0, done.stderr
    return folder


def test_a_grown_slower_loop_with_a_new_sync_fails(baseline: Path):
    gates = ("--baseline", "base.json", "--max-params-growth", "10", "--max-flops-growth", "10",
             "--max-slowdown", "20", "--no-new-syncs")  # fmt: skip
    done = _run(baseline, *gates, "loop.py", "64", "0.5", "sync", "24")
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "> --max-params-growth 10%; blocks: 0, 2" in err
    assert "> --max-flops-growth 10%; blocks: 0, 2" in err
    # the sleep is "other" time: its range clears the baseline's even on a loaded machine
    assert "other time +" in err and "> --max-slowdown 20%" in err
    assert ".item() at loop.py:17 (block (step))" in err and "[--no-new-syncs]" in err


def test_the_same_loop_passes(baseline: Path):
    gates = ("--baseline", "base.json", "--max-params-growth", "0", "--max-flops-growth", "0",
             "--no-new-syncs")  # fmt: skip
    done = _run(baseline, *gates, "loop.py", "32", "0.005", "no", "80")
    assert done.returncode == 0, done.stderr
    assert "OK: within the baseline's limits" in done.stderr


def test_a_loop_within_its_limits_but_over_the_baseline_never_reads_ok(baseline: Path):
    gates = ("--max-syncs", "10", "--baseline", "base.json", "--max-params-growth", "0")
    done = _run(baseline, *gates, "loop.py", "64", "0.005", "no", "24")
    assert done.returncode == 1, done.stderr
    verdicts = [v for v in done.stderr.splitlines() if v.startswith(("OK", "FAILED", "within"))]
    assert verdicts[0].startswith("FAILED against the baseline"), done.stderr
    assert not any(v.startswith("OK") for v in verdicts), done.stderr
