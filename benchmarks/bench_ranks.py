"""`netscope run --nproc-per-node 2` overhead per rank: a real 2-rank DDP training loop (gloo, CPU),
or with NETSCOPE_BENCH_LOOP=fsdp2 an FSDP2 one (four fully_shard blocks and a head, AdamW).

The same script is launched plain with torch's own launcher (`python -m torch.distributed.run
--nproc-per-node 2`) and under `netscope run --nproc-per-node 2 -o`, interleaved (plain, netscope,
netscope, plain ...) so that both see the same machine load. The time compared is what each rank
measures itself (first batch to last step; the slower rank's, as DDP ends when both do), so
interpreter start-up, torch's import and the rendezvous are not counted on either side. Also: each
rank's median step from netscope's report next to the script's own median step.
Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT

LOOP = os.environ.get("NETSCOPE_BENCH_LOOP", "ddp")
SCRIPT = ROOT / "benchmarks" / "scripts" / f"{LOOP}_train.py"
LOOPS = {
    "ddp": ("DDP", "CNN training loop per rank (DistributedSampler, DataLoader, Adam"),
    "fsdp2": ("FSDP2", "MLP training loop per rank (four fully_shard blocks and a head, AdamW"),
}
STEPS = int(os.environ.get("NETSCOPE_BENCH_STEPS", "120"))
REPEATS = int(os.environ.get("NETSCOPE_BENCH_REPEATS", "5"))
TARGET = 0.03
RANK_LINE = re.compile(r"rank=(\d+) loop_s=([0-9.]+) step_ms=([0-9.]+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ranks_timing(command: list[str]) -> dict[int, tuple[float, float]]:
    """Run to the end; {rank: (loop seconds, median step ms)} as the script printed them."""
    # one intra-op thread per rank on both sides (torchrun's own default): 2 ranks on 2 cores
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()
    found = {int(r): (float(s), float(m)) for r, s, m in RANK_LINE.findall(stdout)}
    if process.returncode != 0 or sorted(found) != [0, 1]:
        raise RuntimeError(f"{command} -> {process.returncode}: {stdout!r} {stderr[-2000:]!r}")
    return found


def main() -> None:
    plain_loop: list[float] = []
    watched_loop: list[float] = []
    own_step: dict[int, list[float]] = {0: [], 1: []}  # the script's, under netscope
    report_step: dict[int, list[float]] = {0: [], 1: []}  # netscope's report, same runs
    plain_step: dict[int, list[float]] = {0: [], 1: []}
    every: list[str] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "run.json")
        for i in range(REPEATS):
            plain_cmd = [
                sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                "--nnodes", "1", "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
                str(SCRIPT), str(STEPS),
            ]  # fmt: skip
            run_cmd = [
                sys.executable, "-m", "netscope", "run", "--nproc-per-node", "2", "-o", report,
                str(SCRIPT), str(STEPS),
            ]  # fmt: skip
            for which in ("plain", "run") if i % 2 == 0 else ("run", "plain"):
                if which == "plain":
                    timing = ranks_timing(plain_cmd)
                    plain_loop.append(max(s for s, _ in timing.values()))
                    for rank, (_, ms) in timing.items():
                        plain_step[rank].append(ms)
                    continue
                timing = ranks_timing(run_cmd)
                watched_loop.append(max(s for s, _ in timing.values()))
                run = json.loads(Path(report).read_text())["run"]
                assert run["state"] == "finished" and run["world_size"] == 2, run["state"]
                for entry in run["ranks"]:
                    rank = entry["rank"]
                    report_step[rank].append(entry["step_ms"]["median"])
                    own_step[rank].append(timing[rank][1])
                every.append(str(run["sample_every"]))
    ratios = [w / p for w, p in zip(watched_loop, plain_loop, strict=True)]
    p_med, w_med = statistics.median(plain_loop), statistics.median(watched_loop)
    overhead = w_med / p_med - 1.0
    r_med = statistics.median(ratios) - 1.0
    threads = os.environ.get("OMP_NUM_THREADS", "1")
    name, loop = LOOPS[LOOP]
    what = (
        f"2-rank {name} (gloo, CPU) {STEPS}-step {loop}, loss.item() every step, {threads} "
        f"thread per rank), {REPEATS} interleaved pairs"
    )
    print(f"## netscope run --nproc-per-node 2 ({name} training loop, per rank)\n")
    print(
        "| measure | result | target | verdict |\n|---|---|---|---|\n"
        f"| {what}: median loop time (slower rank) under `netscope run --nproc-per-node 2 -o` "
        f"vs plain `torch.distributed.run` | {w_med:.3f} s vs {p_med:.3f} s = {overhead:+.1%}; "
        f"median of the per-pair ratios {r_med:+.1%} (spread {min(ratios) - 1:+.1%} to "
        f"{max(ratios) - 1:+.1%}) | <= +{TARGET:.0%} | "
        f"{'met' if overhead <= TARGET else 'NOT met'} |"
    )
    steps = "; ".join(
        f"rank {rank}: report {statistics.median(report_step[rank]):.1f} ms vs the script's own "
        f"{statistics.median(own_step[rank]):.1f} ms (plain runs: "
        f"{statistics.median(plain_step[rank]):.1f} ms)"
        for rank in (0, 1)
    )
    print(
        f"\nPer pair (netscope / plain): {', '.join(f'{r:.3f}' for r in ratios)}. "
        f"Plain runs: {', '.join(f'{v:.3f}' for v in plain_loop)} s; under netscope: "
        f"{', '.join(f'{v:.3f}' for v in watched_loop)} s. Median step per rank (medians over "
        f"the runs) {steps}. Detectors on 1 in N steps, N per run: {', '.join(every)}. "
        f"Load average (1 min) before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f}."
    )


if __name__ == "__main__":
    main()
