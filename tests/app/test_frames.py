"""What a key costs on screen: which frames show it and which rows are drawn again for it."""

from __future__ import annotations

from conftest import measured, wait_for

from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_body import DetailsBody
from netscope.app.widgets.details_panel import DetailsPanel


async def test_a_new_selection_reaches_the_details_in_the_trees_frame(toy_app):
    """The frame that shows the moved cursor shows the details of the new row too (the body's
    repaint no longer comes a frame later)."""
    app, _ = toy_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        await pilot.pause(0.1)
        tree = app.main.query_one(BlockTree)
        details = app.main.query_one(DetailsPanel)
        body = details.query_one(DetailsBody)
        for key in ("j", "j", "l", "j", "k"):
            line = tree.cursor_line
            painted: list[object] = []
            frames: list[tuple[int, bool]] = []  # (cursor line, details of it painted)
            render_line = body.render_line

            def noted(y: int, render_line=render_line, painted=painted):
                painted.append(body._lines)
                return render_line(y)

            display = app._display

            def timed(screen, update, display=display, painted=painted, frames=frames):
                display(screen, update)
                if update is not None:
                    shown = bool(painted) and painted[-1] is body._lines
                    frames.append((tree.cursor_line, shown and details.key == tree.selected_key))

            body.render_line = noted  # type: ignore[method-assign]
            app._display = timed  # type: ignore[method-assign]
            try:
                await pilot.press(key)
                await pilot.pause(0.1)
            finally:
                del body.render_line
                del app._display
            if tree.cursor_line == line:
                continue  # l expanded in place: the selection did not change
            first = next(f for f in frames if f[0] == tree.cursor_line)
            assert first[1], f"{key}: the details of the new row came in a later frame"
