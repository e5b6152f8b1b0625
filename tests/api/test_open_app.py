"""``netscope.open`` / ``Report.open``: the real app over an in-memory model's report, driven
headless by Textual's Pilot (the same app object ``open`` runs in a terminal)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import netscope
from netscope.app.widgets.block_tree import BlockTree
from netscope.python_api.app import report_app
from tests.api.helpers import imported


async def _wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)
    await pilot.pause()


async def test_the_app_shows_the_in_memory_model_and_quits_with_0() -> None:
    module = imported("gpt2_tiny")
    report = netscope.inspect(module.build_model(), **module.example_input())
    app = report_app(report.snapshot)
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait_for(pilot, lambda: app.snapshot is not None)
        assert app.snapshot is report.snapshot  # rendered, not recomputed
        tree = app.main.query_one(BlockTree)
        assert "GPT2LMHeadModel" in str(tree.root.label)
        await pilot.press("slash", *"tied", "enter")
        assert "transformer.wte.weight" in [k.name for k in app.main.matches]
        await pilot.press("escape", "q")
        await _wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0


async def test_ctrl_c_quits_with_130() -> None:
    module = imported("cnn")
    app = report_app(netscope.inspect(module.build_model(), module.example_input()).snapshot)
    async with app.run_test() as pilot:
        await _wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("ctrl+c")
        await _wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 130
