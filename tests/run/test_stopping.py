"""ScriptStopper on real processes: Ctrl+C's escalation, SIGINT, then SIGTERM, then a kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from netscope.engine.run.stopping import ScriptStopper

IGNORES = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job inherits SIG_IGN
for name in sys.argv[1:]:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def start(*ignored: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", IGNORES, *ignored], stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    return process


def test_sigint_is_enough_for_a_script_that_obeys_it() -> None:
    process = start()
    stopper = ScriptStopper(lambda: process, grace_s=5.0)
    began = time.monotonic()
    stopper.stop_and_wait()
    assert process.returncode is not None and process.returncode != -signal.SIGKILL
    assert time.monotonic() - began < 4.0
    assert stopper.requested is False  # waiting is not a request the app made


def test_a_script_ignoring_sigint_gets_sigterm_after_the_grace_period() -> None:
    process = start("SIGINT")
    ScriptStopper(lambda: process, grace_s=0.3).stop_and_wait()
    assert process.returncode == -signal.SIGTERM


def test_a_script_ignoring_both_is_killed() -> None:
    process = start("SIGINT", "SIGTERM")
    ScriptStopper(lambda: process, grace_s=0.3).stop_and_wait()
    assert process.returncode == -signal.SIGKILL


def test_the_app_path_escalates_from_its_poll_loop_and_a_second_ask_skips_the_wait() -> None:
    process = start("SIGINT", "SIGTERM")
    stopper = ScriptStopper(lambda: process, kill_group=True, grace_s=30.0)
    stopper.request()
    assert stopper.requested
    stopper.escalate()  # within the grace period: nothing more
    time.sleep(0.2)
    assert process.poll() is None
    stopper.request()  # asked again: SIGTERM now (ignored), the kill on the next poll
    stopper.request()
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
