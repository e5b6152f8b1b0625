"""Golden JSON and Markdown reports. Rewrite them with ``pytest tests/report --update-golden``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from report_golden import check_json_golden, check_text_golden
from report_handmade import handmade_profile, handmade_snapshot

from netscope.report.json_report import render_json
from netscope.report.markdown import render_markdown

REPO = Path(__file__).resolve().parents[2]
SAMPLES = ["mlp", "shared_layer", "lazy_mlp", "fixed_hidden_mlp"]


def test_handmade_golden(update_golden: bool) -> None:
    snapshot, profile = handmade_snapshot(), handmade_profile()
    check_json_golden("handmade.json", render_json(snapshot, profile), update_golden)
    check_text_golden("handmade.md", render_markdown(snapshot, profile), update_golden)


def _take_snapshot():
    if importlib.util.find_spec("netscope.engine.api") is None:
        pytest.skip("netscope.engine.api.take_snapshot is not written yet")
    from netscope.engine.api import take_snapshot

    return take_snapshot


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_model_golden(
    name: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    take_snapshot = _take_snapshot()
    from netscope.engine.options import LoadOptions

    monkeypatch.chdir(REPO)  # paths in the report are relative to the working folder
    snapshot = take_snapshot(LoadOptions(target=f"sample_models/{name}.py"))
    check_json_golden(f"{name}.json", render_json(snapshot), update_golden)
    check_text_golden(f"{name}.md", render_markdown(snapshot), update_golden)
