"""The streamed JSON report (model lists made a chunk at a time, orjson's bytes written as they
are) is the report of ``report_dict``: real models, real files, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from netscope.engine.api import take_snapshot
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.report import json_report
from netscope.report.json_report import render_json
from netscope.report.serialize import report_dict
from netscope.report.serialize_items import ItemList
from netscope.report.write import write_report

SAMPLES = Path(__file__).resolve().parents[2] / "sample_models"
# a tie and shared storage; a lazy module; reuse, buffers, custom blocks; several outputs
MODELS = ("tied_embedding", "lazy_mlp", "shared_layer", "chimera")


@pytest.fixture(scope="module", params=MODELS)
def snapshot(request: pytest.FixtureRequest) -> Snapshot:
    return take_snapshot(LoadOptions(str(SAMPLES / f"{request.param}.py")))


def _plain_compact(snapshot: Snapshot) -> bytes:
    """The compact report as one orjson call over the plain dict: the text before streaming."""
    return orjson.dumps(report_dict(snapshot), default=json_report._plain_number) + b"\n"


def test_streamed_file_is_the_plain_reports_bytes(
    snapshot: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_report, "INDENT_LIMIT", 0)  # a small model streamed
    monkeypatch.setattr(json_report, "CHUNK", 3)  # many chunks, a last one short
    path = tmp_path / "report.json"
    write_report(str(path), snapshot, None, "json")
    written = path.read_bytes()
    assert written == _plain_compact(snapshot)
    assert written == render_json(snapshot).encode()
    assert json.loads(written) == report_dict(snapshot)


def test_small_report_stays_indented(snapshot: Snapshot, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_report(str(path), snapshot, None, "json")
    expected = json.dumps(report_dict(snapshot), indent=2, allow_nan=False) + "\n"
    assert path.read_bytes() == expected.encode()


def test_report_dict_is_plain_lists_unless_streamed(snapshot: Snapshot) -> None:
    plain = report_dict(snapshot)["model"]
    streamed = report_dict(snapshot, streamed=True)["model"]
    for key in ("modules", "parameters", "buffers"):
        assert type(plain[key]) is list
        items = streamed[key]
        assert isinstance(items, ItemList) and len(items) == len(plain[key])
        assert [item for chunk in items.slices(2) for item in chunk] == plain[key]
        assert items.whole() == plain[key]
