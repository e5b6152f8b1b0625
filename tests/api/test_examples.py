"""The examples in examples/ run as a user runs them: the script in a subprocess, the notebook
executed cell by cell in a real Jupyter kernel by nbclient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def test_the_example_script_prints_and_writes_its_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "inspect_model.py"), str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "forward FLOPs: 618,140,672" in result.stdout
    assert "block 2 (Residual): 18,560 parameters" in result.stdout
    assert "fits 24 GiB: True" in result.stdout
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["inference.html", "inference.json", "inference.md", "training.json"]
    training = json.loads((tmp_path / "out" / "training.json").read_text())
    assert training["fit"]["fits"] is True and training["memory"]["optimizer_bytes"] > 0


@pytest.mark.slow
def test_the_notebook_runs_and_renders_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / "inspect_in_jupyter.ipynb", as_version=4)
    os.environ.setdefault("PYTHONPATH", str(REPO))  # the kernel imports this netscope
    client = nbclient.NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    assert len(outputs[1]) == 1  # the report shown once (torchinfo's issue 27: twice)
    shown = outputs[1][0]["data"]
    assert shown["text/html"].startswith('<div class="netscope-report">')
    assert "<details" in shown["text/html"]
    assert shown["text/plain"].startswith("<netscope.Report Sequential")
    assert len(outputs[2]) == 1
    assert "FLOPs forward" in outputs[2][0]["text"]
    assert "TransformerEncoderLayer" in outputs[3][0]["text"]
    assert (tmp_path / "notebook-report.html").read_text().startswith("<!DOCTYPE html>")
