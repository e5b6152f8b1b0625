"""Live updates wait while keys come in, and all of them arrive once the keys pause."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import measured, wait_for
from test_live_recorded import STREAM, GatedReplay, _app, _index
from textual import events

from netscope.app.live_hold import HOLD_S, MAX_HOLD_S, LiveHold
from netscope.engine.profiler import messages as wm


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_updates_wait_after_a_key_and_come_out_in_order():
    clock = Clock()
    hold: LiveHold[int] = LiveHold(clock)
    assert not hold.holding()  # no key yet
    hold.key()
    assert hold.holding()
    hold.hold(1)
    clock.now += HOLD_S / 2
    hold.hold(2)
    assert hold.due_in() == pytest.approx(HOLD_S / 2)
    clock.now = 100.0 + HOLD_S + 1e-9
    assert not hold.holding()  # the keys paused
    assert hold.take() == [1, 2] and hold.take() == []


def test_keys_that_keep_coming_hold_updates_for_max_hold_s_at_most():
    clock = Clock()
    hold: LiveHold[int] = LiveHold(clock)
    hold.key()
    hold.hold(1)
    while clock.now < 100.0 + MAX_HOLD_S - 0.05:
        clock.now += 0.05
        hold.key()
        assert hold.holding()
    clock.now += 0.05
    hold.key()
    assert not hold.holding()  # held long enough: the panels move
    assert hold.due_in() == 0.0


async def test_live_panels_wait_for_the_keys_to_pause_then_show_everything():
    finished = _index(wm.Finished)
    extra = [wm.TimingSample("cpu", 1000 + i, 5.0) for i in range(200)]
    source = GatedReplay([*STREAM, *extra], gate=finished + 1)
    app = _app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        await pilot.pause(0.3)
        app.post_message(events.Key("j", "j"))  # keys as the terminal sends them: Pilot's
        await asyncio.sleep(0.05)  # press waits for the process to go idle, which a stream delays
        live = app.live
        source.delay_s = 0.002  # step times stream in while the user moves around
        source.open()
        end = time.monotonic() + 0.8  # longer than the pump's 0.25 s between posts
        while time.monotonic() < end:
            key = "j" if int(time.monotonic() * 10) % 2 else "k"
            app.post_message(events.Key(key, key))
            await asyncio.sleep(HOLD_S / 4)
            assert app.live is live  # held back while the keys come
        await wait_for(pilot, lambda: app.live.iterations.get("cpu") == 1199)
        assert app.live.windows["cpu"][-1] == 5.0
