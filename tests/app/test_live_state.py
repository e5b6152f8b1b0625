"""One owner of live state: an immutable LiveState, one reducer, widgets bound to one reactive."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import measured, wait_for
from test_live_recorded import STREAM, GatedReplay, _app, _index

from netscope.app.live_state import LiveState, SessionStarted
from netscope.app.messages import TimingUpdate
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.app.widgets.syncs_table import SyncsTable
from netscope.engine.profiler import messages as wm


def _replayed() -> LiveState:
    state = LiveState()
    for message in STREAM:
        state = state.after(message)
    return state


def test_live_state_cannot_be_changed_in_place() -> None:
    state = _replayed()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.syncs = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.summaries["cpu"] = state.summaries["cpu"]  # type: ignore[index]
    assert state.profile is not None and state.syncs and state.syncs[0].op == ".item()"


def test_the_reducer_keeps_what_an_event_did_not_change() -> None:
    state = _replayed()
    timed = state.after(TimingUpdate("cpu", (1.0, 2.0), 7, generation=1))
    assert timed.windows["cpu"] == (1.0, 2.0) and timed.iterations["cpu"] == 7
    assert timed.block_timings is state.block_timings and timed.syncs is state.syncs
    assert not timed.shows_other_results_than(state)  # the details need no redraw
    path = state.block_timings["cpu"][0].path
    assert timed.block_rows(path) == state.block_rows(path)
    # one index for both: a key press does not re-index every block because a step time came
    assert timed._index.rows(timed.block_timings) is state._index.rows(state.block_timings)
    assert state.after(wm.Progress("profiling")) is state
    assert state.after(SessionStarted()).as_profile() is None


async def test_results_reach_the_widgets_through_the_screen_state_alone() -> None:
    """Step times stream without redrawing the details; a result message redraws them."""
    finished = _index(wm.Finished)
    syncs_at = _index(wm.SyncsFound)
    extra = [wm.TimingSample("cpu", 2000 + i, 5.0) for i in range(20)]
    source = GatedReplay([*STREAM[:finished], *extra, STREAM[finished]], gate=syncs_at)
    app = _app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.pause(0.2)
        assert app.main.query_one(SyncsTable).data_rows[0][0] == "not measured yet"
        details = app.main.query_one(DetailsPanel)
        shown = details.shown
        source.open()
        await wait_for(pilot, lambda: measured(app))
        await pilot.pause(0.2)
        assert app.live is app.main.live and app.live.syncs
        assert app.main.query_one(SyncsTable).data_rows[0][0] == ".item()"
        assert details.live is app.main.live  # bound, not pushed
        assert details.shown is not shown  # the results redrew the details once
        redrawn = details.shown
        app.main.record(TimingUpdate("cpu", (3.0,), 9999, generation=app.generation))
        await pilot.pause(0.1)
        assert details.shown is redrawn  # a step time is not a result: no redraw


def test_the_step_line_gives_the_spread_before_what_a_narrow_panel_may_cut() -> None:
    """At 160 columns the run screen's step panel cut its line after 'p90' (the value lost):
    the median, p10 and p90 come first, within the half of a 160-column terminal."""
    from netscope.app.widgets.step_panel import step_text
    from netscope.engine.model import RunReport, Spread

    spread = Spread(median=22.98, p10=21.04, p90=123.5)
    report = RunReport(("train.py",), "running", None, 400, "optimizer.step", spread, None)
    text = step_text(report).plain
    assert text.index("p90 124 ms") < text.index("400 steps")
    assert len(text[: text.index("p90 124 ms") + len("p90 124 ms")]) <= 78
