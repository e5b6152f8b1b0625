"""App figures: command to first screen and to a filled tree (ResNet-152, real `netscope` in a
pseudo-terminal), and key-to-screen latency on a 10,000-block model while samples stream in.

Run: python benchmarks/bench_app.py  (prints Markdown; run_all.py collects it into the docs)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect
from harness import ROOT, markdown_table, verdict

RESNET = str(ROOT / "sample_models" / "resnet152.py")
BLOCKS = 10_000
PRESSES = 100
KEYS = ("down", "j", "l", "n")  # move, move, expand (or step into), next filter match


def netscope_command() -> list[str]:
    found = shutil.which("netscope")
    return [found] if found else [sys.executable, "-m", "netscope"]


def one_start(tmp: str) -> tuple[float, float]:
    """Seconds from spawn to the first frame, and to the tree's `layer1` row; then q quits."""
    command = netscope_command()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="48")
    start = time.perf_counter()
    child = pexpect.spawn(
        command[0], [*command[1:], RESNET], cwd=tmp, env=env,
        dimensions=(48, 160), encoding="utf-8", timeout=120,
    )  # fmt: skip
    try:
        child.expect("starting worker|importing torch")  # the progress line of the first frame
        first = time.perf_counter() - start
        child.expect("layer1")  # a block row: the snapshot arrived and the tree filled
        filled = time.perf_counter() - start
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    if child.exitstatus != 0:
        raise RuntimeError(f"netscope exited with {child.exitstatus} after q")
    return first, filled


def startup_rows(repeats: int = 3) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_start(tmp) for _ in range(repeats)]
    first = statistics.median(r[0] for r in runs)
    filled = statistics.median(r[1] for r in runs)
    return [
        [
            f"`netscope resnet152.py` in a 160x48 pty: command to first screen (median of {repeats})",
            f"{first:.2f} s",
            "< 2 s",
            verdict(first < 2),
        ],
        [
            "... command to the filled block tree (import torch, build, forward, backward)",
            f"{filled:.2f} s",
            "within seconds (< 10 s)",
            verdict(filled < 10),
        ],
    ]


MODEL_FILE = f"""
import torch
from torch import nn


class Probe(nn.Linear):
    '''Every 100th block: a custom class the filter finds.'''


def build_model():
    return nn.Sequential(*[Probe(4, 4) if i % 100 == 0 else nn.Linear(4, 4) for i in range({BLOCKS})])


def example_input():
    return torch.randn(2, 4)
"""


def live_stream(snapshot, count: int = 200_000) -> list:
    """What a live worker sends: the snapshot, block timings, then step times and system samples."""
    from netscope.engine import model as m
    from netscope.engine.profiler import messages as wm

    rows = tuple(m.BlockTiming(b.path, "cpu", 0.01, 0.01, 1) for b in snapshot.blocks)
    stream: list = [wm.Progress("building"), wm.SnapshotReady(snapshot), wm.BlockTimings("cpu", rows)]
    system = m.SystemSample(0.0, 97.0, 300 * 2**20, (88.0, 14.0))
    for i in range(count):
        stream.append(wm.TimingSample("cpu", i, 5.0 + (i % 7) * 0.3))
        if i % 20 == 0:
            stream.append(wm.SystemSampled(system))
    return stream


async def key_latencies(snapshot) -> tuple[list[float], int]:
    """Milliseconds from each key press to the rendered frame, and the samples received meanwhile."""
    from netscope.app.app import make_app
    from netscope.app.replay import ReplaySource
    from netscope.app.widgets.block_tree import BlockTree
    from netscope.engine.options import LoadOptions, ProfileOptions

    source = ReplaySource(live_stream(snapshot), delay_s=0.001)  # ~1,000 step times a second
    app = make_app(LoadOptions("blocks10k.py"), ProfileOptions(), source=source)
    latencies: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        while app.snapshot is None or not app.live.windows:
            await pilot.pause(0.05)
        app.main.apply_filter("probe")
        tree = app.main.query_one(BlockTree)
        first_iteration = app.live.iterations.get("cpu", 0)
        for i in range(PRESSES):
            key = KEYS[i % len(KEYS)]
            before = (tree.cursor_line, tree.cursor_node.is_expanded if tree.cursor_node else None)
            start = time.perf_counter()
            await pilot.press(key)
            app.screen._on_timer_update()  # composite and write the frame now, as the timer would
            latencies.append((time.perf_counter() - start) * 1000)
            after = (tree.cursor_line, tree.cursor_node.is_expanded if tree.cursor_node else None)
            if after == before:
                raise RuntimeError(f"key {key!r} changed nothing on screen (press {i})")
            await pilot.pause(0.02)  # a user types ~50 keys a second at most
        received = app.live.iterations.get("cpu", 0) - first_iteration
    return latencies, received


def latency_row() -> list[str]:
    from netscope.engine.api import take_snapshot
    from netscope.engine.options import LoadOptions

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "blocks10k.py"
        path.write_text(MODEL_FILE)
        snapshot = take_snapshot(LoadOptions(str(path)))
    latencies, received = asyncio.run(key_latencies(snapshot))
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    worst = ordered[-1]
    return [
        f"Key to rendered frame, {len(snapshot.blocks):,}-block model while {received:,} step "
        f"times stream in ({PRESSES} presses of down/j/l/n)",
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms",
        "< 50 ms",
        verdict(p95 < 50),
    ]


def main() -> None:
    rows = [*startup_rows(), latency_row()]
    print("## App\n")
    print(markdown_table(["measure", "result", "target", "verdict"], rows))


if __name__ == "__main__":
    main()
