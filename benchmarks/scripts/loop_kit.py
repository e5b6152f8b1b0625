"""What the benchmark training loops share: the CNN's conv block, one pass over the batches with a
mark after every optimizer step, and the line each rank prints (loop time and median step)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

Batch = tuple[torch.Tensor, torch.Tensor]


def conv_block(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
    )  # fmt: skip


def train(
    batches: Iterable[Batch],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> tuple[list[float], float]:
    """The usual loop (`loss.item()` every step): ``perf_counter`` before the first batch and after
    each optimizer step, and the summed loss."""
    marks = [time.perf_counter()]
    total = 0.0
    for x, y in batches:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        marks.append(time.perf_counter())
    return marks, total


def rank_line(rank: int, marks: list[float], total: float, steps: int) -> str:
    """``rank=R loop_s=... step_ms=<median step> mean_loss=...``, parsed by bench_ranks.py."""
    gaps = sorted(b - a for a, b in itertools.pairwise(marks))
    step_ms = 1000.0 * gaps[len(gaps) // 2]
    loop_s = marks[-1] - marks[0]
    return f"rank={rank} loop_s={loop_s:.4f} step_ms={step_ms:.2f} mean_loss={total / steps:.4f}"


def wait_for_the_other(folder: str | None, count: int = 2) -> None:
    """Benchmarks that run two copies at the same time on one core start their loops together
    (one's start-up beside the other's loop would slow that loop alone): each copy leaves a file
    in ``folder`` and waits for ``count`` of them. No folder: no wait."""
    if not folder:
        return
    open(os.path.join(folder, str(os.getpid())), "w").close()
    while len(os.listdir(folder)) < count:
        time.sleep(0.001)
