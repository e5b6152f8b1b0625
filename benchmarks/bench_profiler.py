"""Profiler figures: timing accuracy vs torch.utils.benchmark, cost of the instrumented passes.

Run: python benchmarks/bench_profiler.py  (prints Markdown; run_all.py collects it into the docs)
Every ratio compares runs interleaved in this one process, on the same model and input.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from harness import ROOT, markdown_table, verdict
from torch import nn
from torch.utils import benchmark

from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions
from netscope.engine.profiler.block_timing import run_hooked
from netscope.engine.profiler.detect import detect
from netscope.engine.profiler.step import prepared_step
from netscope.engine.profiler.timing import time_step

ROUNDS = 8  # short alternating rounds: both timers see the same share of other processes' load


def loaded_step(model_file: str) -> Any:
    loaded = load_target(LoadOptions(target=str(ROOT / "sample_models" / model_file)))
    return loaded, prepared_step(loaded.model, loaded.example_input, "cpu")


def timer_median_ms(run: Callable[[], Any], min_run_time: float) -> float:
    timer = benchmark.Timer(stmt="run()", globals={"run": run}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1000.0


def accuracy(model_file: str, label: str, seconds: float, rounds: int = ROUNDS) -> list[str]:
    """Each round gives both timers the same time; a slow step needs long rounds so that
    Timer's blocked_autorange (one run per block) gets as many runs as netscope's samples."""
    _loaded, context = loaded_step(model_file)
    with context as step:
        ours, theirs = [], []
        for _ in range(rounds):  # interleaved so a drift in machine load hits both alike
            ours.append(time_step(step.run, "cpu", max_seconds=seconds / rounds).median_ms)
            theirs.append(timer_median_ms(step.run, seconds / rounds))
    a, b = statistics.median(ours), statistics.median(theirs)
    error = abs(a / b - 1)
    return [
        f"Step-time median vs benchmark.Timer, {label}",
        f"{a:.3f} ms vs {b:.3f} ms: off by {error * 100:.1f}%",
        "<= 3%",
        verdict(error <= 0.03),
    ]


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def detection_overhead() -> list[str]:
    loaded, context = loaded_step("resnet152.py")
    with context as step:
        step.run()  # warm
        plain, hooked = [], []
        for _ in range(5):
            plain.append(median_seconds(step.run, 1))
            hooked.append(median_seconds(lambda: detect(loaded.model, step.run, "cpu"), 1))
    ratio = statistics.median(hooked) / statistics.median(plain)
    return [
        "Copy/sync detection pass vs plain step, ResNet-152",
        f"{statistics.median(hooked) * 1000:.0f} ms vs {statistics.median(plain) * 1000:.0f} ms"
        f" = {ratio:.2f} x",
        "<= 1.25 x",
        verdict(ratio <= 1.25),
    ]


class Mlp(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.up = nn.Linear(width, 4 * width)
        self.act = nn.GELU()
        self.down = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(self.act(self.up(x)))


def hooked_vs_plain(model: nn.Module, batch: torch.Tensor, label: str, target: str) -> list[str]:
    model.eval()
    blocks = sum(1 for _ in model.modules())

    def run() -> Any:
        with torch.no_grad():
            return model(batch)

    for _ in range(5):
        run()
    plain, hooked = [], []
    for _ in range(15):  # interleaved
        plain.append(median_seconds(run, 3))
        hooked.append(median_seconds(lambda: run_hooked(model, run, torch.device("cpu")), 3))
    ratio = statistics.median(hooked) / statistics.median(plain)
    return [
        f"Per-block timing pass vs plain step, {label} ({blocks} blocks)",
        f"{statistics.median(hooked) * 1000:.2f} ms vs {statistics.median(plain) * 1000:.2f} ms"
        f" = {ratio:.2f} x",
        target,
        verdict(ratio <= 1.4) if target != "-" else "worst case, for information",
    ]


def block_timing_overhead() -> list[list[str]]:
    loaded, _context = loaded_step("resnet152.py")
    resnet = hooked_vs_plain(loaded.model, loaded.example_input.args[0], "ResNet-152", "<= 1.4 x")
    stack = nn.Sequential(*[Mlp(256) for _ in range(125)])  # 1 + 125 * 4 = 501 blocks
    mlps = hooked_vs_plain(stack, torch.randn(32, 256), "125 MLP blocks of width 256", "<= 1.4 x")
    tiny = nn.Sequential(*[nn.Sequential(nn.Linear(16, 16), nn.ReLU()) for _ in range(166)])
    worst = hooked_vs_plain(tiny, torch.randn(4, 16), "166 tiny Linear+ReLU blocks", "-")
    return [resnet, mlps, worst]


def main() -> None:
    rows = [
        accuracy("resnet152.py", "ResNet-152 (batch 1, 224x224)", 16.0),
        accuracy("mlp.py", "MLP 20-256-10", 4.0),
        detection_overhead(),
        *block_timing_overhead(),
    ]
    print(f"## Profiler (CPU, {torch.get_num_threads()} threads)\n")
    print(markdown_table(["measure", "result", "target", "verdict"], rows))


if __name__ == "__main__":
    main()
