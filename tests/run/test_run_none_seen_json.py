"""An empty ``run.syncs`` in the JSON says what it rests on, in the app's and the Markdown's
words: on how many sampled steps of how many, and that a rarer sync can be missed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from netscope.engine.model import RunReport
from tests.run.helpers import run_headless

pytestmark = pytest.mark.slow

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schema.json").read_text())
LOOP = """
import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(60):
    model(torch.randn(8, 16)).pow(2).mean().backward()
    optimizer.step()
    optimizer.zero_grad()
"""


def test_no_syncs_in_a_few_sampled_steps_of_many_says_so_in_the_json(tmp_path: Path):
    script = tmp_path / "loop.py"
    script.write_text(LOOP.lstrip())
    done, report = run_headless(tmp_path, [str(script)], every=8)
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["syncs"] == [] and run["copies"] == []
    steps, sampled = run["steps"], run["sampled_steps"]
    assert 0 < sampled < steps == 60
    totals = run["totals"]
    said = totals["syncs_none_seen"]
    assert said.startswith(f"No sync points in the {sampled} sampled step(s) of 60: "), said
    assert "can be missed" in said and "--every 1" in said
    # the app's and the Markdown's words for the same run, to the letter
    same = RunReport(("loop.py",), "finished", 0, steps, None, None, None, sampled_steps=sampled)
    assert said == same.none_seen("sync points")
    assert totals["copies_none_seen"] == same.none_seen("host-device copies")
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(report)) == []
