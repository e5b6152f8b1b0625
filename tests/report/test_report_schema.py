"""docs/schema.json is the checker of the contract in docs/schema.md: real reports validate.

Every object in the schema lists its fields (additionalProperties: false), so a field that is
renamed, dropped or added to a report without the schema (and the doc) fails here.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")
torch = pytest.importorskip("torch")

from netscope.engine.api import take_snapshot  # noqa: E402
from netscope.engine.options import LoadOptions  # noqa: E402
from netscope.report.write import write_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _errors(report: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(report)
    ]


def _report(tmp_path: Path, options: LoadOptions) -> dict:
    """The JSON file the report writer produces for a real snapshot, read back."""
    out = write_report(str(tmp_path / "report.json"), take_snapshot(options))
    return json.loads(Path(out).read_text())


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "model", ["mlp", "tied_embedding", "lazy_mlp", "shared_layer", "chimera", "custom_layers"]
)
def test_sample_model_reports_validate(tmp_path, model):
    report = _report(tmp_path, LoadOptions(str(ROOT / "sample_models" / f"{model}.py")))
    assert report["kind"] == "model" and report["model"]["modules"]
    assert _errors(report) == []


def _save_mlp_state(tmp_path: Path) -> dict:
    sys.path.insert(0, str(ROOT / "sample_models"))
    try:
        import save_mlp
    finally:
        sys.path.remove(str(ROOT / "sample_models"))
    return save_mlp.build_model().state_dict()


def test_checkpoint_alone_report_validates(tmp_path):
    path = tmp_path / "mlp.pt"
    torch.save(_save_mlp_state(tmp_path), path)
    report = _report(tmp_path, LoadOptions(str(path)))
    assert report["kind"] == "checkpoint" and report["model"]["parameters"]
    assert _errors(report) == []


def test_weights_diff_report_validates(tmp_path):
    state = _save_mlp_state(tmp_path)
    del state["output.bias"]  # missing
    state["hidden.weight"] = torch.zeros(3, 20)  # mismatched shape
    state["extra.weight"] = torch.zeros(2)  # unexpected
    path = tmp_path / "broken.pt"
    torch.save(state, path)
    model = str(ROOT / "sample_models" / "save_mlp.py")
    report = _report(tmp_path, LoadOptions(model, weights=str(path)))
    diff = report["checkpoint"]
    assert diff["missing"] == ["output.bias"] and diff["unexpected"] == ["extra.weight"]
    assert [m["key"] for m in diff["mismatched"]] == ["hidden.weight"]
    assert _errors(report) == []
    # a DataParallel checkpoint: its prefix is stripped, with a note saying so
    prefixed = {f"module.{k}": v for k, v in _save_mlp_state(tmp_path).items()}
    torch.save(prefixed, path)
    report = _report(tmp_path, LoadOptions(model, weights=str(path)))
    assert report["checkpoint"]["stripped_prefix"] == "module."
    assert report["checkpoint"]["notes"]
    assert _errors(report) == []


@pytest.mark.slow
def test_profile_report_from_the_cli_validates(tmp_path):
    out = tmp_path / "profile.json"
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "report", str(ROOT / "sample_models" / "mlp.py"),
         "--profile", "--time-budget", "0.3", "-o", str(out)],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    profile = report["profile"]
    assert profile["devices"]["cpu"]["runs"] > 0 and profile["blocks"]
    assert profile["system"] is not None and profile["gil"] is not None
    assert _errors(report) == []


@pytest.mark.slow
@pytest.mark.parametrize("script", ["host_reads.py", "no_model.py", "raises.py"])
def test_run_reports_validate(tmp_path, script):
    from tests.run.helpers import run_headless

    _, report = run_headless(tmp_path, [script])
    assert report["kind"] == "run" and report["run"]["argv"][0] == script
    assert _errors(report) == []


def test_a_renamed_or_unknown_field_fails_validation(tmp_path):
    good = _report(tmp_path, LoadOptions(str(ROOT / "sample_models" / "tied_embedding.py")))
    assert _errors(good) == []
    renamed = copy.deepcopy(good)
    param = renamed["model"]["parameters"][0]
    param["requires_gradient"] = param.pop("requires_grad")
    errors = _errors(renamed)
    assert any("requires_grad" in e for e in errors) and any(
        "requires_gradient" in e for e in errors
    )
    top = copy.deepcopy(good)
    top["schemaVersion"] = top.pop("schema_version")
    assert _errors(top)
    wrong_type = copy.deepcopy(good)
    wrong_type["model"]["total_params"] = str(wrong_type["model"]["total_params"])
    assert _errors(wrong_type)
    not_run = copy.deepcopy(good)
    not_run["run"] = {}  # a run section only in a run report
    assert _errors(not_run)


def test_a_run_report_with_ranks_validates_and_its_fields_are_closed():
    from netscope.engine.model import ScriptError
    from netscope.engine.run.messages import RunStarted, ScriptEnded, Steps
    from netscope.engine.run.rank_messages import RankHello, StepWaits
    from netscope.engine.run.ranks import RanksRecorder
    from netscope.report.serialize_run import run_report_dict

    recorder = RanksRecorder(("train.py",))
    for rank, (data_ms, wait_ms) in enumerate([(1.0, 40.0), (41.0, 1.0)]):
        hello = RankHello(rank, rank, 2, "node-a", 0, 100 + rank)
        records = tuple((i, 50.0, data_ms, 2.0, 45.0, 1.0, False) for i in range(1, 11))
        for message in (
            hello,
            RunStarted(("train.py",), 100 + rank),
            Steps("optimizer.step", records),
            StepWaits(tuple(("optimizer.step", i, wait_ms) for i in range(1, 11))),
            ScriptEnded(
                1 if rank else 0, ScriptError("ValueError", "bad", "train.py:3") if rank else None
            ),
        ):
            recorder.feed(hello, message)
    report = run_report_dict(recorder.report())
    run = report["run"]
    assert run["world_size"] == 2 and run["straggler"] == 1 and run["skew_pct"] == 78.0
    assert [r["wait_ms"] for r in run["ranks"]] == [40.0, 1.0]
    assert run["state"] == "crashed" and run["error"]["message"] == "rank 1: bad"
    assert _errors(report) == []
    renamed = copy.deepcopy(report)
    renamed["run"]["ranks"][0]["wait"] = renamed["run"]["ranks"][0].pop("wait_ms")
    assert _errors(renamed)
