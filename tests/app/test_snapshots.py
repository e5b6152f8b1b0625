"""SVG snapshots at 80x24 and 160x48, compared to goldens in tests/snapshots/.

Everything on screen comes from the replayed stream, so nothing varies run to run; the header
clock is off and no notification is open. Rewrite with ``pytest --update-golden``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_app, measured, wait_for

from netscope.app.tree_index import NodeKey

GOLDEN = Path(__file__).parent.parent / "snapshots"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_main_screen_snapshot(size, update_golden):
    app, _ = build_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: measured(app))
        app.main.jump(NodeKey("parameter", "embed.weight", "embed"))
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        svg = app.export_screenshot(title="netscope")
    golden = GOLDEN / f"main_{size[0]}x{size[1]}.svg"
    if update_golden or not golden.exists():
        golden.write_text(svg)
        if not update_golden:
            pytest.fail(f"wrote missing golden {golden.name}; rerun")
    assert svg == golden.read_text(), f"screen differs from {golden}; --update-golden rewrites"
