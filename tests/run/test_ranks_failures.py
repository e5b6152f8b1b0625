"""netscope run --nproc-per-node when the job never gets going: a rendezvous torchrun cannot
open, a script that is not there. A clear message, a non-zero exit, no hang."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.run.helpers import SCRIPTS

pytestmark = pytest.mark.slow
LIMIT_S = 90  # a hang fails here; a normal failure takes ~10 s


def _run_cli(code: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``code`` (which calls netscope's CLI) in a fresh interpreter; end its whole tree."""
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=SCRIPTS, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=LIMIT_S)
    finally:
        if process.poll() is None:  # hung: torchrun runs in a session of its own, so end
            with contextlib.suppress(psutil.Error):  # netscope's descendants one by one
                tree = psutil.Process(process.pid).children(recursive=True)
                for child in tree:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
                psutil.wait_procs(tree, timeout=10)
            process.kill()
            process.wait()
    seconds = time.monotonic() - began
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), seconds


def _cli(argv: list[str], master_port: int | None = None) -> str:
    patch = ""
    if master_port is not None:  # the rendezvous port netscope hands torchrun
        patch = "import netscope.engine.run.dist_session as d\n"
        patch += f"d.free_port = lambda: {master_port}\n"
    return f"import sys\n{patch}from netscope.cli import main\nsys.exit(main({argv!r}))\n"


def test_a_rendezvous_port_in_use_ends_with_the_addresses_and_an_error(tmp_path):
    out = tmp_path / "run.json"
    with socket.socket() as taken:  # something else already listens on the rendezvous port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["run", "--nproc-per-node", "2", "-o", str(out), "ddp_straggler.py"]
        done, seconds = _run_cli(_cli(argv, master_port=port))
    assert done.returncode != 0, done.stderr
    assert "before any rank reached netscope at 127.0.0.1:" in done.stderr, done.stderr
    assert f"(rendezvous on 127.0.0.1:{port})" in done.stderr, done.stderr
    assert "rank 0 done" not in done.stdout  # the script never ran
    assert seconds < LIMIT_S
    run = json.loads(out.read_text())["run"]
    assert not run.get("ranks") and run["exit_code"] not in (None, 0), run


def test_a_missing_script_names_the_file_and_fails(tmp_path):
    out = tmp_path / "run.json"
    argv = ["run", "--nproc-per-node", "2", "-o", str(out), "no_such_script.py"]
    done, seconds = _run_cli(_cli(argv))
    assert done.returncode != 0, done.stderr
    assert "netscope: crashed: FileNotFoundError" in done.stderr, done.stderr
    assert "no_such_script.py" in done.stderr
    assert seconds < LIMIT_S
    run = json.loads(out.read_text())["run"]
    assert run["state"] == "crashed" and run["exit_code"] not in (None, 0), run
