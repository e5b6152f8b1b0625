"""The apps need a terminal: without one each way in fails at once with the command that writes a
file instead (before, ``netscope run train.py > log`` wrote the app's escape codes into the log and
never ended). Real processes with their output in a pipe; the script is never started. A real
terminal goes through: tests/run/test_run_app_pty.py and tests/e2e/test_pty.py drive the apps in
one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOOP = """
import torch
print("the script ran")
model = torch.nn.Linear(4, 4)
model(torch.randn(2, 4)).sum().backward()
"""


def netscope_in_pipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", *args], cwd=cwd, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip


def test_run_without_a_terminal_names_the_headless_command(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(LOOP)
    done = netscope_in_pipe("run", str(script), "--lr", "1", cwd=tmp_path)
    assert done.returncode == 2
    assert "the app needs a terminal, and stdout is redirected" in done.stderr
    assert f"netscope run -o report.json {script}" in done.stderr
    assert "the script ran" not in done.stdout + done.stderr
    assert "\x1b[" not in done.stdout  # no escape codes in the pipe


def test_model_app_without_a_terminal_names_report(tmp_path: Path) -> None:
    done = netscope_in_pipe(str(REPO / "sample_models" / "mlp.py"), cwd=tmp_path)
    assert done.returncode == 2
    assert "netscope report" in done.stderr and "-o report.json" in done.stderr
    assert "\x1b[" not in done.stdout


def test_diff_app_without_a_terminal_fails_before_any_model_runs(tmp_path: Path) -> None:
    mlp = str(REPO / "sample_models" / "mlp.py")
    done = netscope_in_pipe("diff", mlp, mlp, "--app", cwd=tmp_path)
    assert done.returncode == 2
    assert "drop --app" in done.stderr
