"""``netscope run --max-syncs / --max-copies / --max-peak-memory``: the real loop as a CI gate,
on unmodified scripts that read their own argv."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run.helpers import SCRIPTS, line_of

pytestmark = pytest.mark.slow


def _gate(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "run", "--every", "2", *args],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_a_loop_over_its_limits_fails_naming_each_place(tmp_path: Path):
    out = tmp_path / "run.json"
    done = _gate("--max-syncs", "0", "--max-copies", "0", "--max-peak-memory", "1KiB",
                 "-o", str(out), "train_cnn.py", "--epochs", "2")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "done 32" in done.stdout  # the script ran, its own argv and output untouched
    sync = line_of("train_cnn.py", "{loss.item()")
    assert re.search(
        rf"^  {re.escape(sync)} \(block \(step\)\): \.item\(\) x1 per step "
        r"\[syncs \d+ > --max-syncs 0\]$",
        done.stderr,
        re.M,
    ), done.stderr
    assert re.search(r"^FAILED: \d+ violation\(s\)$", done.stderr, re.M)
    assert re.search(r"\(process rss\) > --max-peak-memory 1(\.0+)? KiB", done.stderr)
    assert out.exists()  # the report is written as without the gate


def test_a_loop_within_its_limits_passes_and_lists_what_it_found():
    done = _gate("--max-syncs", "5", "--max-copies", "0", "--max-peak-memory", "64GiB",
                 "train_cnn.py", "--epochs", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "OK: within limits, found:" in done.stderr
    assert f"{line_of('train_cnn.py', '{loss.item()')} (block (step)): .item()" in done.stderr


def test_a_failing_script_keeps_its_own_status(tmp_path: Path):
    script = tmp_path / "exits.py"
    script.write_text(
        "import sys\nimport torch\n"
        "model = torch.nn.Linear(4, 2)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for _ in range(8):\n"
        "    loss = model(torch.randn(3, 4)).pow(2).mean()\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
        "    print(loss.item())\n"
        "sys.exit(3)\n"
    )
    done = _gate("--max-syncs", "0", str(script))
    assert done.returncode == 3, done.stderr
    assert "exits.py:9" in done.stderr and "[syncs 1 > --max-syncs 0]" in done.stderr


def test_every_rank_is_gated_on_its_own():
    done = _gate("--nproc-per-node", "2", "--max-peak-memory", "1KiB",
                 "ddp_straggler.py", "--steps", "12", "--delay-ms", "0")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "rank 0: peak memory" in done.stderr and "rank 1: peak memory" in done.stderr
