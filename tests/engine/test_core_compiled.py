"""torch.compile'd models: report, check and profile work; the snapshot is the original module's.

Real ``torch.compile`` in real model files; the CLI runs in a subprocess. The "eager" backend
compiles fast; one test uses the default backend (inductor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from core_helpers import line_of, snap, write_model
from torch import nn

from netscope.engine.errors import NetscopeError
from netscope.engine.load.compiled import compiled_root
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.forward import ForwardRecord, install_hooks, run_forward

SEQUENTIAL = """
import torch
from torch import nn


def build_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 4))
    return torch.compile(net{backend})


def example_input():
    return torch.randn(8, 20)
"""

SYNCING = """
import torch
from torch import nn


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        y = self.fc(x)
        if float(y.abs().max()) > 1e9:  # SYNC-LINE
            y = y * 0
        return y


def build_model():
    return torch.compile(nn.Sequential(nn.Linear(16, 16), Gate()), backend="eager")


def example_input():
    return torch.randn(4, 16)
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "netscope", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_snapshot_describes_the_original_module(tmp_path: Path) -> None:
    path = write_model(tmp_path, "model.py", SEQUENTIAL.format(backend=', backend="eager"'))
    snapshot = snap(path)
    assert snapshot.model_class == "Sequential"
    assert [b.path for b in snapshot.blocks] == ["", "0", "1", "2"]
    assert all("_orig_mod" not in p.name for p in snapshot.parameters)
    assert snapshot.total_params == 20 * 32 + 32 + 32 * 4 + 4
    assert snapshot.forward.ran and snapshot.forward.backward_ran
    assert "torch.compile'd (backend 'eager')" in snapshot.forward.note
    assert "eagerly" in snapshot.forward.note
    assert {b.path: b.calls for b in snapshot.blocks}["2"] == 1


def test_report_json_through_the_cli(tmp_path: Path) -> None:
    write_model(tmp_path, "model.py", SEQUENTIAL.format(backend=', backend="aot_eager"'))
    done = _cli("report", "model.py", "-o", "out.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["model"]["class"] == "Sequential"
    assert report["model"]["total_params"] == 804
    assert [b["path"] for b in report["model"]["modules"]] == ["", "0", "1", "2"]
    assert "backend 'aot_eager'" in report["forward"]["note"]
    assert "OptimizedModule" not in done.stderr + done.stdout


def test_report_profile_times_the_compiled_step_and_says_what_ran_eagerly(tmp_path: Path) -> None:
    write_model(tmp_path, "model.py", SEQUENTIAL.format(backend=', backend="eager"'))
    done = _cli(
        "report", "model.py", "--profile", "--time-budget", "1", "-o", "p.json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    profile = json.loads((tmp_path / "p.json").read_text())["profile"]
    assert "torch.compile'd (backend 'eager')" in profile["step"]
    assert "measured eagerly" in profile["step"]
    assert [b["path"] for b in profile["blocks"]] == ["", "0", "1", "2"]
    assert all(b["calls"] == {"cpu": 1} for b in profile["blocks"])


def test_check_finds_a_sync_in_a_compiled_model_at_the_users_block(tmp_path: Path) -> None:
    path = write_model(tmp_path, "model.py", SYNCING)
    done = _cli("check", "model.py", "--max-syncs", "0", "--devices", "cpu", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"model.py:{line_of(path, 'SYNC-LINE')}" in done.stdout
    assert "_orig_mod" not in done.stdout
    passed = _cli("check", "model.py", "--devices", "cpu", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_default_backend_inductor(tmp_path: Path) -> None:
    """The default backend; no --profile: compiling with inductor on 2 CPUs takes over a minute."""
    write_model(tmp_path, "model.py", SEQUENTIAL.format(backend=""))
    done = _cli("report", "model.py", "-o", "r.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert "backend 'inductor'" in report["forward"]["note"]
    assert report["forward"]["backward_ran"]
    assert report["model"]["total_params"] == 804


def test_error_in_the_users_compiled_forward_still_names_the_users_line(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        "model.py",
        """
        import torch
        from torch import nn


        class Broken(nn.Module):
            def forward(self, x):
                raise ValueError("bad input")  # RAISE-LINE


        def build_model():
            return torch.compile(nn.Sequential(nn.Linear(4, 4), Broken()), backend="eager")


        def example_input():
            return torch.randn(2, 4)
        """,
    )
    with pytest.raises(NetscopeError) as info:
        snap(path)
    assert "instrumentation" not in info.value.message
    assert "ValueError: bad input" in info.value.message
    assert (info.value.location or "").endswith(f"model.py:{line_of(path, 'RAISE-LINE')}")


def test_hooks_on_the_compiled_wrapper_fail_as_netscopes_instrumentation() -> None:
    """What happens without unwrapping when dynamo cannot trace netscope's block-stack hooks (in
    one graph, as ``fullgraph=True`` asks): the error says it is netscope's instrumentation,
    not the user's forward."""
    torch._dynamo.reset()
    model = torch.compile(
        nn.Sequential(nn.Linear(20, 8), nn.ReLU()), backend="eager", fullgraph=True
    )
    loaded = LoadedTarget(
        options=LoadOptions("model.py"),
        path="model.py",
        model=model,
        example_input=ExampleInput(args=(torch.randn(2, 20),), origin="example_input()"),
    )
    record = ForwardRecord()
    handles = install_hooks(model, record, stats=True)
    try:
        with pytest.raises(NetscopeError) as info:
            run_forward(loaded, record, with_grad=False)
    finally:
        for handle in handles:
            handle.remove()
    assert info.value.message.startswith("netscope's instrumentation (")
    assert "not an error in your model's code" in info.value.message
    assert info.value.location is None
    assert "netscope problem" in (info.value.hint or "")


def test_a_compiled_block_inside_a_plain_model(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        "model.py",
        """
        import torch
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = torch.compile(nn.Linear(6, 6), backend="eager")
                self.head = nn.Linear(6, 2)

            def forward(self, x):
                return self.head(self.encoder(x))


        def build_model():
            return Net()


        def example_input():
            return torch.randn(3, 6)
        """,
    )
    snapshot = snap(path)
    assert compiled_root(torch.compile(nn.Linear(1, 1), backend="eager")) is not None
    assert snapshot.forward.ran and snapshot.forward.backward_ran
    assert "compiled block(s) `encoder`" in snapshot.forward.note
    assert snapshot.total_params == 6 * 6 + 6 + 6 * 2 + 2
