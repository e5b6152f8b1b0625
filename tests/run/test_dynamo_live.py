"""``DynamoWatch.report_if_new`` (in process, dynamo's eager backend): what the watcher sends the
app while the script runs. A report comes only when dynamo did something new (a new frame, a
graph break), never twice for the same state, and reading it adds no key to dynamo's counters
(the script may print them)."""

from __future__ import annotations

import sys

import torch

from netscope.engine.run.dynamo_watch import DynamoWatch


def _nothing(*args: object) -> None:
    return None


def _plain(x: torch.Tensor) -> torch.Tensor:
    return x.relu() + 1


def _breaks(x: torch.Tensor) -> torch.Tensor:
    x = x * 2
    print("traced", file=sys.stderr)  # the graph break this test looks for
    return x - 1


def test_a_report_only_when_dynamo_did_something_new():
    from torch._dynamo.utils import counters

    watch = DynamoWatch(_nothing, _nothing)
    watch.install()
    try:
        torch.compile(_plain, backend="eager")(torch.randn(3))
        before = {name: dict(counter) for name, counter in counters.items()}
        first = watch.report_if_new()
        assert first is not None and first.frames_compiled >= 1
        assert {name: dict(counter) for name, counter in counters.items()} == before
        assert watch.report_if_new() is None  # nothing new since
        compiled = torch.compile(_breaks, backend="eager")
        compiled(torch.randn(3))
        second = watch.report_if_new()
        assert second is not None and second.frames_compiled > first.frames_compiled
        line = _breaks.__code__.co_firstlineno + 2
        assert any(b.file and b.file.endswith("test_dynamo_live.py") and b.line == line
                   for b in second.graph_breaks), second.graph_breaks  # fmt: skip
        compiled(torch.randn(3))  # runs the compiled code again: nothing new compiled
        assert watch.report_if_new() is None
    finally:
        watch.uninstall()
