"""netscope run --nproc-per-node: torchrun with gloo on the CPU, two ranks, one view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.run.helpers import SCRIPTS, line_of

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


def test_ddp_exposure_not_told_reads_null_never_a_zero_count(tmp_path):
    """DDP waits for its all-reduce in C++: how long and on how many steps the rank was blocked
    are both not available (null), never 0 steps beside a null time."""
    done, report = _run(tmp_path, ["ddp_straggler.py", "--steps", "12", "--delay-ms", "0"])
    assert done.returncode == 0, done.stderr
    for rank in report["run"]["ranks"]:
        ddp = [c for c in rank["collectives"] if c["via"] == "ddp"]
        assert ddp and all(c["steps"] > 0 for c in ddp), rank["collectives"]
        for stat in ddp:
            assert stat["exposed_ms_per_step"] is None and stat["exposed_steps"] is None, stat
    schema = json.loads((SCRIPTS.parents[2] / "docs" / "schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(report)) == []


def test_a_crashing_rank_is_named_the_others_stop_and_the_record_is_kept(tmp_path):
    done, report = _run(
        tmp_path, ["ddp_straggler.py", "--steps", "30", "--delay-ms", "0", "--crash-rank", "1",
                   "--crash-step", "5"],
    )  # fmt: skip
    assert done.returncode != 0
    run = report["run"]
    assert run["state"] == "crashed" and run["exit_code"] != 0
    error = run["error"]
    assert error["message"].startswith("rank 1: ") and error["type"] == "RuntimeError"
    assert error["location"] == line_of("ddp_straggler.py", "failed at step {step}")
    assert "rank 1 failed at step 5" in error["traceback"]
    ranks = {r["rank"]: r for r in run["ranks"]}
    assert ranks[1]["state"] == "crashed" and ranks[1]["steps"] == 5
    assert ranks[0]["state"] != "finished" and ranks[0]["steps"] >= 4  # stopped by torchrun
    assert "rank 1 failed at step 5" in done.stderr  # the rank's traceback, as printed
    assert "netscope: crashed: RuntimeError" in done.stderr


def test_a_rank_crashing_while_the_other_waits_in_a_collective(tmp_path):
    """Rank 1 raises inside its backward; rank 0 is then inside DDP's gradient all-reduce,
    waiting for rank 1's share: rank 1 is named, rank 0 stopped (not left hanging), the record
    kept and the status non-zero."""
    began = time.monotonic()
    done, report = _run(
        tmp_path, ["ddp_straggler.py", "--steps", "30", "--delay-ms", "0", "--crash-rank", "1",
                   "--crash-step", "5", "--crash-where", "backward"], timeout=180,
    )  # fmt: skip
    assert time.monotonic() - began < 170  # never waited out gloo's 30-minute timeout
    assert done.returncode != 0
    run = report["run"]
    assert run["state"] == "crashed" and run["exit_code"] != 0
    error = run["error"]
    assert error["message"] == "rank 1: rank 1 failed in the backward at step 5", error
    assert error["location"] == line_of("ddp_straggler.py", "failed in the backward")
    ranks = {r["rank"]: r for r in run["ranks"]}
    assert ranks[1]["state"] == "crashed" and ranks[1]["steps"] == 5
    assert ranks[0]["state"] != "finished" and ranks[0]["steps"] >= 4
    assert report["model"] is not None and run["flops_per_step"] > 0  # what was seen is kept


def test_an_unreachable_collector_is_named_at_once(tmp_path):
    from netscope.engine.run.dist_session import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "netscope.rank", "ddp_straggler.py"],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=60,
        env={**os.environ, "NETSCOPE_COLLECTOR": address, "RANK": "3"},
    )  # fmt: skip
    assert done.returncode == 2
    assert f"rank 3 cannot reach the netscope collector at {address}" in done.stderr
    assert time.monotonic() - began < 30


def test_collect_gives_up_when_no_rank_comes(tmp_path):
    from netscope.engine.run.dist_session import free_port

    address = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "collect", "--listen", address, "--wait", "1",
         "-o", str(tmp_path / "run.json")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"no rank reached {address} within 1 s" in done.stderr


def _spawn(command: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, **kwargs,
    )  # fmt: skip


def test_collect_two_nodes_of_one_job(tmp_path):
    from netscope.engine.run.dist_session import free_port

    address = f"127.0.0.1:{free_port()}"
    rendezvous = f"127.0.0.1:{free_port()}"
    out = tmp_path / "run.json"
    collector = _spawn([sys.executable, "-m", "netscope", "collect", "--listen", address,
                        "-o", str(out), "--wait", "120"])  # fmt: skip
    nodes: list[subprocess.Popen] = []
    try:
        time.sleep(1.0)
        for node in (0, 1):
            command = [
                sys.executable, "-m", "torch.distributed.run", "--nnodes", "2",
                "--node-rank", str(node), "--nproc-per-node", "1", "--rdzv-backend", "c10d",
                "--rdzv-endpoint", rendezvous, "--rdzv-id", "netscope-test",
                "-m", "netscope.rank", "ddp_straggler.py", "--steps", "20", "--slow-rank", "1",
                "--delay-ms", str(DELAY_MS),
            ]  # fmt: skip
            env = {**os.environ, "NETSCOPE_COLLECTOR": address}
            nodes.append(_spawn(command, cwd=SCRIPTS, env=env))
        outputs = [node.communicate(timeout=180)[0] for node in nodes]
        collected = collector.communicate(timeout=60)[0]
    finally:
        for process in (collector, *nodes):
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait()
    assert all(node.returncode == 0 for node in nodes), outputs
    assert collector.returncode == 0, collected
    run = json.loads(out.read_text())["run"]
    assert run["world_size"] == 2 and run["state"] == "finished"
    ranks = {r["rank"]: r for r in run["ranks"]}
    assert sorted(ranks) == [0, 1]
    assert run["straggler"] == 1 and ranks[0]["wait_ms"] >= 0.6 * DELAY_MS
