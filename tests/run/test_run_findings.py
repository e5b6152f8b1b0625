"""A run report's findings describe the run: the walked model's "add an example_input()" advice
(a file-mode finding, from before the snapshot learned it was a run's) does not stay beside the
run's own note, and a run has no --input-shape to point at."""

from __future__ import annotations

from pathlib import Path

from tests.run.helpers import line_of, run_headless


def test_a_training_script_gets_the_runs_note_once(tmp_path: Path) -> None:
    done, report = run_headless(tmp_path, ["keeps_losses.py", "--keep", "item", "--steps", "20"])
    assert done.returncode == 0, done.stderr
    assert report["forward"]["backward_ran"]  # the script's gradients reached the snapshot
    missing = [f["message"] for f in report["findings"] if f["code"] == "no-example-input"]
    assert len(missing) == 1, missing
    assert missing[0].startswith("netscope run never calls the model itself")
    assert not any("--input-shape" in f["message"] for f in report["findings"])


def test_calls_before_the_first_optimizer_step_are_one_step(tmp_path):
    """nanoGPT's shape with every step recorded: the estimate_loss() at iteration 0 runs before
    any optimizer.step(), when each model call still closed a step; once the optimizer steps
    those calls are the first step's, so its reads are seen on one step, not four, and the
    sampled steps never outnumber the loop's (an audit saw 63 sampled of 60)."""
    script = ["eval_then_train.py", "--iters", "12", "--eval-every", "5"]
    done, report = run_headless(tmp_path, script, every=1)
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["steps"] == 12 and run["sampled_steps"] <= run["steps"]
    (read,) = [s for s in run["syncs"] if s["location"] == line_of("eval_then_train.py", ".item()")]
    assert read["seen_steps"] == 3  # iterations 0, 5 and 10
