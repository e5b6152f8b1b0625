"""``torch.compile(train_step)``: a script compiling its whole training step (forward and loss,
or forward, loss and backward) rather than the model. Under ``netscope run`` dynamo's counters,
warnings and the losses are those of the script alone (no frame, graph break or recompile of
netscope's: its ``backward`` wrapper is never compiled as a frame, what it calls is dynamo's as
before); the model, never called where a hook runs, is found from the optimizer's parameters in
the script's frames and named by its class; the steps are counted and the script's own graph
breaks reported at their lines (tests/run/scripts/compiled_step.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.run.helpers import SCRIPTS, dynamo_lines, line_of, run_headless, step_losses

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("options", "breaks"),
    [
        (["--backward", "--breaks"], ['print("traced")', "loss.backward()"]),
        pytest.param(
            ["--backend", "inductor"],
            [],
            marks=pytest.mark.skipif(
                not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
                reason="inductor on the CPU needs a C++ compiler",
            ),
        ),
    ],
    ids=["aot-eager-backward-inside", "inductor-forward-and-loss"],
)
def test_a_compiled_train_step_runs_as_alone_and_its_model_is_found(tmp_path, options, breaks):
    script = ["compiled_step.py", *options]
    alone = subprocess.run(
        [sys.executable, *script], cwd=SCRIPTS, capture_output=True, text=True, timeout=300
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    under, report = run_headless(tmp_path, script, every=None, timeout=300)
    assert under.returncode == 0, under.stderr[-3000:]
    assert any(line.startswith("DYNAMO ") for line in dynamo_lines(alone.stderr))
    assert dynamo_lines(under.stderr) == dynamo_lines(alone.stderr)
    assert step_losses(under.stdout) == step_losses(alone.stdout)
    assert len(step_losses(alone.stdout)) == 12
    run = report["run"]
    assert run["state"] == "finished" and run["steps"] == 12
    assert run["step_boundary"] == "optimizer.step"
    assert run["models"] == [{"class": "TinyNet", "total_params": 676, "role": "main"}]
    assert report["model"]["class"] == "TinyNet"
    assert [m["path"] for m in report["model"]["modules"]] == ["", "up", "down"]
    assert run["model_calls_per_step"] is None  # inside dynamo's graph: not seen, never 0
    assert run["phases_ms"]["optimizer"] > 0
    seen = run["compile"]
    rows = [(b["file"], b["line"], b["count"]) for b in seen["graph_breaks"]]
    wanted = []
    for text in breaks:
        file, line = line_of("compiled_step.py", text).split(":")
        wanted.append((file, int(line), 1))
    assert rows == wanted
    assert seen["graph_break_count"] == len(breaks) and seen["recompiles"] == []
