"""Ctrl+C (what `q` sends while the script runs) ends the script with 130 and a traceback in the
script's own frames: not the watcher's hook or child.py's signal handler it landed in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.run.helpers import SCRIPTS


def test_an_interrupted_script_shows_its_own_frames(tmp_path):
    out = tmp_path / "run.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "forever.py"],
        cwd=SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "twenty steps\n"
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl+C: the whole group
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr
    error = json.loads(out.read_text())["run"]["error"]
    assert error["type"] == "KeyboardInterrupt"
    for text in (stderr, error["traceback"]):
        assert "KeyboardInterrupt" in text
        frames = [line.strip() for line in text.splitlines() if line.strip().startswith("File ")]
        # the script's own frames only, named as `python forever.py` names them (absolute)
        own = f'File "{SCRIPTS / "forever.py"}"'
        assert frames and all(f.startswith(own) for f in frames), text
    assert error["location"].startswith("forever.py:")
