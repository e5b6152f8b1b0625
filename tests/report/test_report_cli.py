"""`netscope report` end to end in a real subprocess: files written, clear errors, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _netscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "report", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_writes_json_with_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "mlp.json"
    result = _netscope("sample_models/mlp.py", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    report = json.loads(out.read_text())
    assert report["schema_version"] == 1
    assert report["model"]["total_params"] == 20 * 256 + 256 + 256 * 10 + 10
    assert [m["path"] for m in report["model"]["modules"]] == ["", "0", "1", "2"]


def test_unwritable_output_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    result = _netscope("sample_models/mlp.py", "-o", str(blocker / "r.md"))
    assert result.returncode == 2
    assert "cannot write the report" in result.stderr and str(blocker) in result.stderr
    assert "Traceback" not in result.stderr
    assert blocker.read_text() == "keep me"


def test_a_model_that_segfaults_is_reported_not_suffered(tmp_path: Path) -> None:
    """Without --profile too, the model runs in a worker: a crash is a clear error, exit 2."""
    model = tmp_path / "segv_model.py"
    model.write_text(
        "import ctypes\n"
        "import torch\n"
        "from torch import nn\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = nn.Linear(2, 2)\n\n"
        "    def forward(self, x):\n"
        "        ctypes.string_at(0)\n"
        "        return self.lin(x)\n\n"
        "def build_model():\n"
        "    return Net()\n\n"
        "def example_input():\n"
        "    return torch.ones(1, 2)\n"
    )
    out = tmp_path / "r.json"
    result = _netscope(str(model), "-o", str(out))
    assert result.returncode == 2
    assert "segmentation fault" in result.stderr
    assert f"{model}:11" in result.stderr or "segv_model.py:11" in result.stderr
    assert not out.exists()


def test_a_plain_pickle_is_not_a_checkpoint(tmp_path: Path) -> None:
    """pickle.dump's file: one clear error with or without --trust-pickle, no torch warning."""
    import pickle

    path = tmp_path / "plain_pickle.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    for trust in ((), ("--trust-pickle",)):
        result = _netscope(str(path), *trust, "-o", str(tmp_path / "x.json"))
        assert result.returncode == 2
        assert "not a torch.save checkpoint" in result.stderr and str(path) in result.stderr
        assert "(a plain pickle with no tensors)" in result.stderr
        assert "Warning" not in result.stderr and "beyond tensors" not in result.stderr


def test_a_plain_pickle_of_tensors_opens_only_when_trusted(tmp_path: Path) -> None:
    import pickle

    import torch

    path = tmp_path / "tensors.pkl"
    path.write_bytes(pickle.dumps({"fc.weight": torch.ones(3, 2), "fc.bias": torch.zeros(3)}))
    refused = _netscope(str(path), "-o", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "a plain pickle (pickle.dump" in refused.stderr
    trusted = _netscope(str(path), "--trust-pickle", "-o", str(tmp_path / "x.json"))
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads((tmp_path / "x.json").read_text())["model"]["total_params"] == 9
