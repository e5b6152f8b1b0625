"""The collector waits while keys come in, and runs again once they pause (or run on too long)."""

from __future__ import annotations

import asyncio
import gc

from conftest import measured, wait_for
from textual import events

from netscope.app.gc_pause import MAX_PAUSE_S, RESUME_AFTER_S, GcPause


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_paused_by_keys_and_resumed_after_them():
    assert gc.isenabled()
    clock = Clock()
    pause = GcPause(clock)
    try:
        assert pause.check() is None
        pause.key()
        assert pause.paused and not gc.isenabled()
        clock.now += RESUME_AFTER_S / 2
        pause.key()
        assert pause.check() is not None and not gc.isenabled()  # keys still coming
        clock.now += RESUME_AFTER_S + 1e-9
        assert pause.check() is None
        assert gc.isenabled() and not pause.paused
    finally:
        pause.resume()
        gc.enable()


def test_a_long_run_of_keys_lets_the_collector_run():
    clock = Clock()
    pause = GcPause(clock)
    try:
        pause.key()
        while clock.now < 100.0 + MAX_PAUSE_S - 0.1:
            clock.now += 0.1
            pause.key()
            assert pause.check() is not None  # still paused
        clock.now += 0.1 + 1e-9
        pause.key()
        assert pause.check() is None and gc.isenabled()
        clock.now += 0.1
        pause.key()  # the same run of keys: the collector stays on
        assert gc.isenabled() and not pause.paused
        clock.now += RESUME_AFTER_S + 0.1
        pause.key()  # a new run after a pause
        assert pause.paused and not gc.isenabled()
    finally:
        pause.resume()
        gc.enable()


def test_someone_elses_pause_is_left_alone():
    pause = GcPause(Clock())
    gc.disable()
    try:
        pause.key()
        assert not pause.paused
        pause.resume()
        assert not gc.isenabled()  # still theirs to end
    finally:
        gc.enable()


async def test_the_app_pauses_the_collector_while_keys_come_and_never_exits_without_it(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        assert gc.isenabled()
        app.post_message(events.Key("j", "j"))  # as the terminal sends keys
        await asyncio.sleep(0.05)
        assert not gc.isenabled()
        await asyncio.sleep(RESUME_AFTER_S * 2)
        assert gc.isenabled()
        app.post_message(events.Key("j", "j"))
        await asyncio.sleep(0.05)
        assert not gc.isenabled()
        await pilot.press("q")  # quit while paused
    assert gc.isenabled()
