"""netscope run --nproc-per-node: torchrun with gloo on the CPU, two ranks, one view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run.helpers import SCRIPTS

pytestmark = pytest.mark.slow
DELAY_MS = 60.0


def _run(
    tmp_path: Path, args: list[str], timeout: float = 240
) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "netscope", "run", "--nproc-per-node", "2", "-o", str(out)]
    process = subprocess.Popen(
        [*command, *args], cwd=SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:  # torchrun and its ranks are in netscope's tree: end them all
            os.killpg(process.pid, 9)
            process.wait()
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert out.exists(), stderr
    return done, json.loads(out.read_text())


def test_the_slow_rank_is_the_straggler_and_the_other_waits_for_it(tmp_path):
    done, report = _run(
        tmp_path, ["ddp_straggler.py", "--steps", "30", "--slow-rank", "1",
                   "--delay-ms", str(DELAY_MS)],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["state"] == "finished" and run["world_size"] == 2
    ranks = {r["rank"]: r for r in run["ranks"]}
    assert sorted(ranks) == [0, 1]
    assert run["straggler"] == 1, run
    assert run["skew_pct"] >= 5.0
    # the fast rank waits in DDP's gradient all-reduce for the slow rank's data
    assert ranks[0]["wait_ms"] >= 0.6 * DELAY_MS, ranks[0]
    assert ranks[1]["wait_ms"] < ranks[0]["wait_ms"] - 0.4 * DELAY_MS, ranks[1]
    assert ranks[1]["phases_ms"]["data"] >= 0.8 * DELAY_MS
    for rank in ranks.values():
        assert rank["steps"] == 30 and rank["step_ms"]["median"] > 0 and rank["host"]
    # the run's own fields are rank 0's
    assert run["steps"] == 30 and run["step_ms"] == ranks[0]["step_ms"]
    assert report["model"] is not None  # the tree is rank 0's model
    assert "rank 1 done" in done.stdout and "rank 0 done" in done.stdout
    assert "straggler: rank 1" in done.stderr


def test_the_straggler_follows_the_delay_to_rank_0(tmp_path):
    done, report = _run(
        tmp_path, ["ddp_straggler.py", "--steps", "24", "--slow-rank", "0",
                   "--delay-ms", str(DELAY_MS)],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = report["run"]
    ranks = {r["rank"]: r for r in run["ranks"]}
    assert run["straggler"] == 0, run
    assert ranks[1]["wait_ms"] >= 0.6 * DELAY_MS


def test_no_straggler_when_the_ranks_are_even(tmp_path):
    done, report = _run(tmp_path, ["ddp_straggler.py", "--steps", "24", "--delay-ms", "0"])
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["world_size"] == 2 and len(run["ranks"]) == 2
    assert run["straggler"] is None or run["skew_pct"] >= 5.0
