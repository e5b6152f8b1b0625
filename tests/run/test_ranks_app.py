"""The Ranks tab of `netscope run --nproc-per-node 2`: real torchrun, gloo, two ranks."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.run.helpers import SCRIPTS

pytestmark = pytest.mark.slow


async def test_the_ranks_tab_marks_the_straggler_and_shows_a_ranks_syncs(monkeypatch):
    from netscope.app.ranks_app import RanksApp
    from netscope.app.widgets.ranks_table import RanksTable
    from netscope.app.widgets.script_log import ScriptLog
    from netscope.engine.run.dist_session import DistSession

    monkeypatch.chdir(SCRIPTS)
    session = DistSession(
        "ddp_straggler.py", ["--steps", "30", "--slow-rank", "1", "--delay-ms", "60"],
        nproc_per_node=2, every=4, capture_output=True,
    )  # fmt: skip
    app = RanksApp(session)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            began = time.monotonic()
            while not app.ended and time.monotonic() - began < 180:
                await asyncio.sleep(0.5)
            assert app.ended
            await pilot.pause(0.5)
            table = app.main.query_one(RanksTable)
            rows = table.data_rows
            assert [r[0] for r in rows] == ["0", "1"]
            assert "straggler" in rows[1][-1] and "straggler" not in rows[0][-1]
            assert all(r[7] == "finished" for r in rows)
            assert all(r[3] != "n/a" for r in rows)  # each rank's memory peak
            assert all("all_reduce" in r[4] for r in rows)  # DDP's, by kind
            assert app.recorder.report().snapshot is not None  # the tree: rank 0's model
            table.focus()
            table.move_cursor(row=1)
            await pilot.pause(0.3)
            assert app.main.selected_rank == 1
            tabs = app.main.query_one("#run-tabs")
            assert "rank 1" in str(tabs.get_tab("tab-loop-syncs").label)
            assert app.main.query_one(ScriptLog).lines_seen > 0  # torchrun's output
            await pilot.press("q")
            await pilot.pause(0.2)
        assert app.return_code == 0
    finally:
        session.close()
        if session.process is not None:
            assert session.process.poll() is not None
            assert not os.path.exists(f"/proc/{session.process.pid}")
