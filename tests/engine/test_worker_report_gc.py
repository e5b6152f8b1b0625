"""The worker's report path (``netscope report -o`` without --profile) holds Python's cyclic
collector off from the snapshot to the write: the model still goes before the report is written,
by its last reference or, when a reference cycle holds it, by one full collection.

The worker's ``_run`` is called here in this process, with the real loader, snapshot and JSON
writer; the model file records a weak reference to each model it builds in a probe module.
"""

from __future__ import annotations

import gc
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from core_helpers import write_model

from netscope.engine.model import Profile, Snapshot
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.worker.process import _run
from netscope.engine.worker.request import ReportRequest, WorkerRequest
from netscope.report.write import write_report

PROBE = "netscope_worker_gc_probe"
MODEL = """
    import weakref

    import torch
    from torch import nn

    import netscope_worker_gc_probe as probe

    def build_model():
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        if probe.CYCLE:
            model.cache = {"model": model}  # a plain attribute: the model holds itself
        probe.MODELS.append(weakref.ref(model))
        return model

    def example_input():
        return torch.randn(3, 4)
"""


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(PROBE)
    module.MODELS = []  # type: ignore[attr-defined]
    module.ALIVE_AT_WRITE = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PROBE, module)
    return module


def _write_checking(path: str, snapshot: Snapshot, profile: Profile | None, fmt: str) -> str:
    """The real writer, after noting whether the model is still alive."""
    probe = sys.modules[PROBE]
    probe.ALIVE_AT_WRITE.append(any(ref() is not None for ref in probe.MODELS))  # type: ignore[attr-defined]
    return write_report(path, snapshot, profile, fmt)


def _report(tmp_path: Path, probe: types.ModuleType, cycle: bool) -> tuple[dict[str, Any], int]:
    """Run the worker's report path in this process; the report and the full collections made."""
    probe.CYCLE = cycle  # type: ignore[attr-defined]
    target = write_model(tmp_path, "model.py", MODEL)
    out = tmp_path / "report.json"
    request = WorkerRequest(
        LoadOptions(target=target),
        ProfileOptions(),
        profile=False,
        report=ReportRequest(str(out), "json", _write_checking),
    )
    full = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    messages: list[Any] = []
    gc.collect()
    gc.callbacks.append(count)
    try:
        _run(request, messages.append, lambda _stage: None, None)
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()  # the worker freezes what it made: this test process lives on
    assert gc.isenabled()
    assert [type(m).__name__ for m in messages][-2:] == ["ReportWritten", "Finished"]
    return json.loads(out.read_text()), len(full)


def test_a_model_without_cycles_goes_before_the_write_with_no_collection(tmp_path, probe) -> None:
    report, collections = _report(tmp_path, probe, cycle=False)
    assert probe.ALIVE_AT_WRITE == [False]
    assert collections == 0
    assert report["model"]["total_params"] == 4 * 8 + 8 + 8 * 2 + 2
    assert report["forward"]["backward_ran"] is True


def test_a_model_held_by_a_cycle_is_collected_before_the_write(tmp_path, probe) -> None:
    report, collections = _report(tmp_path, probe, cycle=True)
    assert probe.ALIVE_AT_WRITE == [False]
    assert collections == 1
    assert report["model"]["total_params"] == 4 * 8 + 8 + 8 * 2 + 2
