"""A recorded step's detectors step aside in the update of torch's own optimizers (run/aside.py)
and nowhere the script's code runs: its closure, an optimizer class of its own, hooks it put on
an optimizer. Runs a watcher in this process, every step recorded, and counts what the two modes
see while the optimizer's update (not its closure) is the innermost phase."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from netscope.engine.profiler import detect
from netscope.engine.run import loop_detect
from netscope.engine.run.phases import OPTIMIZER
from netscope.engine.run.watcher import Watcher
from tests.run.helpers import watcher_here

STEPS = 12


class ClippingSGD(torch.optim.Optimizer):
    """The script's own optimizer: its step reads a value back (a sync on CUDA)."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = self.param_groups[0]["params"]
        norm = torch.stack([p.grad.norm() for p in params]).norm()
        if norm.item() > 1e6:  # CLIPPING READ
            return loss
        for p in params:
            p.add_(p.grad, alpha=-self.param_groups[0]["lr"])
        return loss


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    with watcher_here(every=1) as agent:  # every step recorded
        yield agent


@pytest.fixture
def seen_in_update(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls each mode handled while the optimizer's update was the innermost phase: both
    handlers look their op up in a module-level set first, which counts here (a wrapper around
    the handlers would be the caller the detectors name)."""
    seen: Counter[str] = Counter()

    class Counting(frozenset):
        level = ""

        def __contains__(self, item: object) -> bool:
            if watcher.stack and watcher.stack[-1] == OPTIMIZER:
                seen[self.level] += 1
            return super().__contains__(item)

    aten, names = Counting(loop_detect.WATCHED_ATEN), Counting(detect.WATCHED_NAMES)
    aten.level, names.level = "dispatch", "function"
    monkeypatch.setattr(loop_detect, "WATCHED_ATEN", aten)
    monkeypatch.setattr(detect, "WATCHED_NAMES", names)
    return seen


def _train(optimizer_class: type, hook: bool = False) -> int:
    """STEPS steps of ``optimizer.step(closure)``, Lightning's way; the closure reads the loss."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = optimizer_class(model.parameters(), lr=1e-3)
    if hook:
        optimizer.register_step_post_hook(lambda opt, args, kwargs: opt.param_groups[0]["lr"])
    x, y = torch.randn(32, 8), torch.randn(32, 4)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if loss.item() < 0:  # LOSS READ
            print(loss)
        return loss

    for _ in range(STEPS):
        optimizer.step(closure)
    return _line("LOSS READ")


def _line(marker: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


def _sync_lines(watcher: Watcher) -> dict[int, int]:
    syncs, _ = watcher.table.findings(watcher.device)
    return {int(s.finding.location.rsplit(":", 1)[1]): s.seen_steps for s in syncs}


@pytest.mark.parametrize("optimizer_class", [torch.optim.SGD, torch.optim.AdamW])
def test_torch_optimizers_update_without_the_detectors_the_closure_with_them(
    watcher: Watcher, seen_in_update: Counter[str], optimizer_class: type
) -> None:
    loss_line = _train(optimizer_class)
    recorded = watcher.table.sampled
    assert recorded >= STEPS - 3  # every step after the first ones, recorded
    assert seen_in_update == Counter()  # the update's own torch calls: none through the modes
    assert _sync_lines(watcher).get(loss_line) == recorded  # the closure's read, every step


def test_the_scripts_own_optimizer_and_hooks_keep_the_detectors(
    watcher: Watcher, seen_in_update: Counter[str]
) -> None:
    _train(ClippingSGD)
    assert seen_in_update["dispatch"] > 0 and seen_in_update["function"] > 0
    assert _sync_lines(watcher).get(_line("CLIPPING READ")) == watcher.table.sampled

    seen_in_update.clear()
    _train(torch.optim.SGD, hook=True)  # a hook of the script's runs inside the step
    assert seen_in_update["function"] > 0
