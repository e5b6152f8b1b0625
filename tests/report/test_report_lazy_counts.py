"""Lazy parameters without a forward: their counts are not available, totals are lower bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netscope.engine.api import take_snapshot
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.report.write import write_report

ROOT = Path(__file__).resolve().parents[2]
LAZY_NO_INPUT = """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.LazyConv2d(8, 3)
        self.fc1 = nn.LazyLinear(64)
        self.bn = nn.LazyBatchNorm1d()
        self.fc2 = nn.Linear(64, 5)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(self.conv(x).flatten(1))))

def build_model():
    return Net()
"""


@pytest.fixture(scope="module")
def lazy_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    path = tmp_path_factory.mktemp("lazy") / "lazy_noinput.py"
    path.write_text(LAZY_NO_INPUT)
    return take_snapshot(LoadOptions(str(path)))


def test_lazy_counts_are_not_available_and_totals_lower_bounds(lazy_snapshot, tmp_path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    report = json.loads(Path(write_report(str(tmp_path / "r.json"), lazy_snapshot)).read_text())
    schema = json.loads((ROOT / "docs" / "schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(report)) == []
    model = report["model"]
    modules = {m["path"]: m for m in model["modules"]}
    for lazy in ("conv", "fc1", "bn"):  # a LazyConv2d has no size yet: null, never 0
        assert modules[lazy]["params"] is None and modules[lazy]["total_params"] is None
        assert modules[lazy]["uninitialized_params"] == 2
    assert modules["fc2"]["total_params"] == 325 and "uninitialized_params" not in modules["fc2"]
    assert modules[""]["total_params"] == 325 and modules[""]["uninitialized_params"] == 6
    assert model["total_params"] == 325 and model["uninitialized_params"] == 6
    markdown = Path(write_report(str(tmp_path / "r.md"), lazy_snapshot)).read_text()
    assert "| Parameters | at least 325 (ties counted once; 6 lazy parameter(s)" in markdown
    assert "| Size | n/a (lazy: shape set by the first forward) |" in markdown
    assert "| `conv` | LazyConv2d | torch.nn | n/a (lazy: shape set by the first forward) |" in (
        markdown
    )


def test_a_model_of_lazy_layers_only_has_no_total(tmp_path) -> None:
    path = tmp_path / "all_lazy.py"
    path.write_text("from torch import nn\n\ndef build_model():\n    return nn.LazyLinear(4)\n")
    snapshot = take_snapshot(LoadOptions(str(path)))
    assert snapshot.total_params is None and snapshot.trainable_params is None
    assert snapshot.uninitialized_params == 2


def test_a_model_without_lazy_layers_has_no_uninitialized_field(tmp_path) -> None:
    snapshot = take_snapshot(LoadOptions(str(ROOT / "sample_models" / "tied_embedding.py")))
    report = json.loads(Path(write_report(str(tmp_path / "r.json"), snapshot)).read_text())
    assert "uninitialized_params" not in report["model"]
    assert all("uninitialized_params" not in m for m in report["model"]["modules"])
