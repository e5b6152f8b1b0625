"""Sharded training under netscope on real torchrun ranks (gloo, CPU): FSDP2 and tensor
parallel, the run left as it was, every rank's collectives by kind, block and bytes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.run.helpers import SCRIPTS
from tests.run.test_ranks import _run, _spawn

pytestmark = pytest.mark.slow
WIDTH = 64
BLOCK_BYTES = 4 * (WIDTH * 2 * WIDTH + 2 * WIDTH + 2 * WIDTH * WIDTH + WIDTH)  # up + down, fp32
HEAD_BYTES = 4 * (WIDTH * 8 + 8)


def _plain(script: str, *args: str) -> list[str]:
    """The ``rank N done: loss ... checksum ...`` lines of a plain torchrun, sorted."""
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", script, *args],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return _done_lines(done.stdout)


def _done_lines(stdout: str) -> list[str]:
    """Each rank's final loss and checksum (two ranks' prints may share a line of torchrun's)."""
    return sorted(re.findall(r"rank \d+ done: loss -?[\d.]+ checksum -?[\d.]+", stdout))


def _by_key(rank: dict) -> dict[tuple[str, str, str | None], dict]:
    return {(c["kind"], c["via"], c["block"]): c for c in rank["collectives"]}


def test_fsdp2_loop_collectives_per_rank_match_the_shard_arithmetic(tmp_path):
    args = ["fsdp2_collectives.py", "--steps", "10", "--width", str(WIDTH)]
    plain = _plain(*args)
    done, report = _run(tmp_path, args)
    assert done.returncode == 0, done.stderr
    assert _done_lines(done.stdout) == plain  # losses and weights bit for bit
    run = report["run"]
    assert run["world_size"] == 2 and len(run["ranks"]) == 2
    for rank in run["ranks"]:
        assert rank["wait_ms"] > 0, rank
        assert rank["memory"] is not None and rank["memory"]["peak_bytes"] > 0
        stats = _by_key(rank)
        for unit in range(4):
            gather = stats[("all_gather", "fsdp", f"blocks.{unit}")]
            # forward, then the backward's re-gather (reshard_after_forward, the default)
            assert gather["calls_per_step"] == 2
            assert gather["bytes_per_step"] == 2 * BLOCK_BYTES
            assert gather["ms_per_step"] > 0
            scatter = stats[("reduce_scatter", "fsdp", f"blocks.{unit}")]
            assert scatter["calls_per_step"] == 1 and scatter["bytes_per_step"] == BLOCK_BYTES
        root = stats[("all_gather", "fsdp", "")]  # the root keeps its head for backward
        assert root["calls_per_step"] == 1 and root["bytes_per_step"] == HEAD_BYTES
        assert stats[("reduce_scatter", "fsdp", "")]["bytes_per_step"] == HEAD_BYTES
        # gloo's all-gathers are synchronous on the CPU: the rank is blocked for all of them
        assert gather["exposed_ms_per_step"] == gather["ms_per_step"]
    exposed = [n for n in run["notes"] if n.startswith("FSDP all-gather exposed every step")]
    assert len(exposed) == 1 and "blocks.0, blocks.1, blocks.2, blocks.3" in exposed[0]


def test_tensor_parallel_loop_all_reduces_per_rank(tmp_path):
    args = ["tp_collectives.py", "--steps", "10", "--width", str(WIDTH)]
    plain = _plain(*args)
    done, report = _run(tmp_path, args)
    assert done.returncode == 0, done.stderr
    assert _done_lines(done.stdout) == plain
    for rank in report["run"]["ranks"]:
        assert rank["wait_ms"] > 0, rank
        stats = _by_key(rank)
        # RowwiseParallel's output (forward, issued inside `down`) and ColwiseParallel's input
        # gradient (backward): one all-reduce of a [16, 64] float32 tensor each
        forward = stats[("all_reduce", "dtensor", "down")]
        assert forward["calls_per_step"] == 1 and forward["bytes_per_step"] == 16 * WIDTH * 4
        assert forward["ms_per_step"] > 0
        total = sum(c["calls_per_step"] for c in rank["collectives"] if c["via"] == "dtensor")
        assert total == 2
        assert all(c["bytes_per_step"] == 16 * WIDTH * 4 for c in rank["collectives"])


def test_the_collector_path_on_the_fsdp2_loop(tmp_path):
    from netscope.engine.run.dist_session import free_port

    address = f"127.0.0.1:{free_port()}"
    out = tmp_path / "run.json"
    collector = _spawn([sys.executable, "-m", "netscope", "collect", "--listen", address,
                        "-o", str(out), "--wait", "120"])  # fmt: skip
    try:
        time.sleep(1.0)
        ranks = _spawn(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
             "-m", "netscope.rank", "fsdp2_collectives.py", "--steps", "8"],
            cwd=SCRIPTS, env={**os.environ, "NETSCOPE_COLLECTOR": address},
        )  # fmt: skip
        printed = ranks.communicate(timeout=180)[0]
        collected = collector.communicate(timeout=60)[0]
    finally:
        for process in (collector, ranks):
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait()
    assert ranks.returncode == 0, printed
    assert collector.returncode == 0, collected
    run = json.loads(out.read_text())["run"]
    assert run["world_size"] == 2 and run["state"] == "finished"
    for rank in run["ranks"]:
        stats = _by_key(rank)
        assert stats[("all_gather", "fsdp", "blocks.3")]["bytes_per_step"] == 2 * BLOCK_BYTES
        assert stats[("reduce_scatter", "fsdp", "blocks.3")]["ms_per_step"] > 0
        assert rank["wait_ms"] > 0


def test_every_rank_snapshots_its_own_shards_without_a_collective(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "sharded_snapshot.py", str(tmp_path)],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for rank in (0, 1):
        fsdp = json.loads((tmp_path / f"fsdp_rank{rank}.json").read_text())["model"]
        params = {p["name"]: p for p in fsdp["parameters"]}
        assert params["0.up.weight"]["shape"] == [32, 16]
        assert params["0.up.weight"]["local_shape"] == [16, 16]
        assert params["2.bias"]["local_shape"] == [2]
        assert fsdp["total_params"] == 2 * (16 * 32 + 32 + 32 * 16 + 16) + 16 * 4 + 4
        units = [m["path"] for m in fsdp["modules"] if m["fsdp_unit"]]
        assert units == ["", "0", "1"]
        tp = json.loads((tmp_path / f"tp_rank{rank}.json").read_text())["model"]
        styles = {m["path"]: m["parallel_style"] for m in tp["modules"]}
        assert styles == {"": None, "up": "ColwiseParallel", "down": "RowwiseParallel"}
        tp_params = {p["name"]: p for p in tp["parameters"]}
        assert tp_params["down.weight"]["placements"] == ["Shard(dim=1)"]
        assert tp_params["down.weight"]["local_shape"] == [16, 16]
    # each rank's statistics are of its own shard: the two halves of a weight differ
    first = json.loads((tmp_path / "fsdp_rank0.json").read_text())["model"]["parameters"][0]
    second = json.loads((tmp_path / "fsdp_rank1.json").read_text())["model"]["parameters"][0]
    assert first["stats"]["mean"] != second["stats"]["mean"]


def test_markdown_and_html_run_reports_show_the_ranks_the_straggler_and_collectives(tmp_path):
    done, _ = _run_to(tmp_path / "run.md", ["fsdp2_collectives.py", "--steps", "8"])
    assert done.returncode == 0, done.stderr
    markdown = (tmp_path / "run.md").read_text()
    assert "| World size | 2 (2 reached netscope; the rest" in markdown
    assert "| Straggler | " in markdown
    assert "## Ranks" in markdown and "## Collectives per rank (per step)" in markdown
    assert "| 1 | all_gather | fsdp | `blocks.3` | 2 | " in markdown
    assert "129.5 KiB |" in markdown  # 2 x one block's 66,304 bytes
    done, _ = _run_to(
        tmp_path / "run.html",
        ["ddp_straggler.py", "--steps", "24", "--slow-rank", "1", "--delay-ms", "60"],
    )
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "run.html").read_text()
    assert "<th>Straggler</th><td>rank 1 (the others wait for it" in html
    assert "<h2>Ranks</h2>" in html and "1 (straggler)" in html
    assert "<td>all_reduce</td><td>ddp</td>" in html


def _run_to(out: Path, args: list[str]) -> tuple[subprocess.CompletedProcess, str]:
    command = [sys.executable, "-m", "netscope", "run", "--nproc-per-node", "2", "-o", str(out)]
    done = subprocess.run(
        [*command, *args], cwd=SCRIPTS, capture_output=True, text=True, timeout=240
    )
    return done, out.read_text() if out.exists() else ""
