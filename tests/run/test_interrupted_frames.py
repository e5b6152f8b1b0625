"""A Ctrl+C that lands in the standard library (a lock's ``__exit__`` inside the heartbeat's
``close()``, under torch's optimizer hook) showed every netscope, torch and threading frame
below the script's line: the trailing frames are cut at the script's last own frame now."""

from __future__ import annotations

import _thread
import runpy
import textwrap
import threading

import pytest

from netscope.engine.run.child import _interrupted_text

SCRIPT = """
import _thread
import threading
import textwrap

threading.Timer(0.2, _thread.interrupt_main).start()
textwrap.wrap("word " * 5_000_000)  # pure-Python standard library: the interrupt lands in it
"""


def test_an_interrupt_inside_the_standard_library_ends_at_the_scripts_line(tmp_path) -> None:
    script = tmp_path / "long_wrap.py"
    script.write_text(SCRIPT)
    with pytest.raises(KeyboardInterrupt) as caught:
        runpy.run_path(str(script), run_name="__main__")
    assert any("textwrap.py" in str(f.path) for f in caught.traceback)  # it landed there
    text = _interrupted_text(caught.value)
    frames = [line.strip() for line in text.splitlines() if line.strip().startswith("File ")]
    assert frames[-1].startswith(f'File "{script}", line 7'), text
    assert not any("textwrap.py" in frame for frame in frames), text
    assert text.rstrip().endswith("KeyboardInterrupt")


def test_an_interrupt_with_no_frame_of_the_users_keeps_the_frames_it_has() -> None:
    threading.Timer(0.2, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt) as caught:
        textwrap.wrap("word " * 5_000_000)  # the interrupt lands in textwrap's own frames
    exc = caught.value
    # this test's frame is a user's file too: the traceback from textwrap on has none
    exc.__traceback__ = exc.__traceback__.tb_next  # type: ignore[union-attr]
    assert "KeyboardInterrupt" in _interrupted_text(exc)
