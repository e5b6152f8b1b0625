"""A run report's findings describe the run: the walked model's "add an example_input()" advice
(a file-mode finding, from before the snapshot learned it was a run's) does not stay beside the
run's own note, and a run has no --input-shape to point at."""

from __future__ import annotations

from pathlib import Path

from tests.run.helpers import run_headless


def test_a_training_script_gets_the_runs_note_once(tmp_path: Path) -> None:
    done, report = run_headless(tmp_path, ["keeps_losses.py", "--keep", "item", "--steps", "20"])
    assert done.returncode == 0, done.stderr
    assert report["forward"]["backward_ran"]  # the script's gradients reached the snapshot
    missing = [f["message"] for f in report["findings"] if f["code"] == "no-example-input"]
    assert len(missing) == 1, missing
    assert missing[0].startswith("netscope run never calls the model itself")
    assert not any("--input-shape" in f["message"] for f in report["findings"])
