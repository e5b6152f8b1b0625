"""`netscope report -o` has the worker write the file: the CLI never receives the snapshot."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netscope import cli
from netscope.engine.profiler.messages import ReportWritten, SnapshotReady
from netscope.engine.worker import session as session_module

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every message the CLI's process takes off the worker's queue."""
    seen: list[object] = []
    poll = session_module.WorkerSession.poll

    def recording(self: session_module.WorkerSession, timeout: float) -> object:
        message = poll(self, timeout)
        if message is not None:
            seen.append(message)
        return message

    monkeypatch.setattr(session_module.WorkerSession, "poll", recording)
    return seen


def test_report_is_written_by_the_worker_not_the_cli(
    tmp_path: Path, received: list[object], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative -o is the CLI's cwd, whatever the worker does
    code = cli.main(["report", str(REPO / "sample_models" / "mlp.py"), "-o", "r.json"])
    assert code == 0
    assert capsys.readouterr().out.strip() == "netscope: wrote json report to r.json"
    assert not [m for m in received if isinstance(m, SnapshotReady)]
    written = [m for m in received if isinstance(m, ReportWritten)]
    assert written == [ReportWritten(os.path.abspath(tmp_path / "r.json"), "json")]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"]["total_params"] == 20 * 256 + 256 + 256 * 10 + 10


def test_a_failed_write_in_the_worker_is_a_clear_error(
    tmp_path: Path, received: list[object], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The destination checks pass in the CLI; the write then fails in the worker: exit 2."""
    from netscope.report import write

    monkeypatch.setattr(write, "resolve_format", lambda path, fmt: "json")  # CLI's check only
    out = tmp_path / "missing" / "r.json"
    code = cli.main(["report", str(REPO / "sample_models" / "mlp.py"), "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write the report" in err and str(out) in err and "Traceback" not in err
    assert not out.parent.exists()
    assert not [m for m in received if isinstance(m, SnapshotReady)]
