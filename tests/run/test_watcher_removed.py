"""Once the watcher is uninstalled (netscope's own failure, the script's end) nothing of it runs in
the script's steps: no mode left on torch's stacks by a recorded step, no heartbeat beating."""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.overrides import _get_current_function_mode
from torch.utils._python_dispatch import _get_current_dispatch_mode

from tests.run.helpers import watcher_here


def _steps(count: int) -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(count):
        model(torch.randn(3, 4)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()


def test_uninstalled_inside_a_recorded_step_and_a_heartbeat_window_leaves_nothing_running() -> None:
    with watcher_here(every=1) as agent:
        _steps(8)
        assert agent.sampled is not None  # every step recorded from here
        assert _get_current_dispatch_mode() is not None
        assert agent.heartbeat is not None
        agent.heartbeat.open_window()
        agent.uninstall()
        assert _get_current_dispatch_mode() is None and _get_current_function_mode() is None
        assert not agent.heartbeat.on.is_set()
        beats = len(agent.heartbeat.lateness_ms)
        time.sleep(0.05)  # a beating thread would add a beat every 2 ms
        assert len(agent.heartbeat.lateness_ms) <= beats + 1
