"""The chapter's concepts on a model that is no sample: buffers, ties, devices, nested outputs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from core_helpers import line_of, snap, write_model

from netscope.cli import main
from netscope.engine.errors import NetscopeError

ANY_MODEL = """
import sys
import torch
from torch import nn


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.register_buffer("scratch", torch.zeros(4), persistent=False)
        self.register_buffer("steps", torch.tensor([3], dtype=torch.int64))
        self.const = torch.rand(4, 4)
        self.shared = nn.Parameter(torch.randn(4))
        self.spaces = nn.Module()  # a bare namespace module: never called, no forward
        self.spaces.p = self.shared  # one Parameter assigned in two places

    def forward(self, x, *, scale=1.0):
        y = self.lin(x) @ self.const * scale + self.shared + self.spaces.p
        return {"out": y, "pair": (y.relu(), [y.sum()])}


def build_model():
    return Holder()


def example_input():
    return {"x": torch.randn(2, 4), "scale": 2.0}


def not_a_model():
    return 3


def exits():
    sys.exit(1)
"""


def test_chapter_concepts_on_any_model(tmp_path) -> None:
    snapshot = snap(write_model(tmp_path, "anymodel.py", ANY_MODEL))
    buffers = {b.name: b for b in snapshot.buffers}
    assert buffers["scratch"].persistent is False and buffers["steps"].persistent is True
    steps = buffers["steps"]
    assert steps.dtype == "int64" and steps.stats is not None and steps.stats.mean == 3.0
    assert [(u.module, u.attribute, u.shape) for u in snapshot.unregistered] == [
        ("", "const", (4, 4))
    ]
    assert [t.names for t in snapshot.ties] == [("shared", "spaces.p")]
    assert snapshot.total_params == 20 + 4  # the shared Parameter counted once
    root = snapshot.block_by_path[""]
    assert [o.label for o in root.outputs] == ["out", "pair.0", "pair.1.0"]
    assert root.outputs[2].shape == () and snapshot.forward.input_summary.startswith(
        "x=tensor(2, 4)"
    )
    assert snapshot.block_by_path["spaces"].calls is None  # a namespace, not an unused block
    assert not any(f.subject == "spaces" for f in snapshot.findings if f.code == "unused-block")
    by_name = {p.name: p for p in snapshot.parameters}
    assert by_name["spaces.p"].grad == by_name["shared"].grad and by_name["shared"].grad.present


def test_weights_split_over_cpu_and_meta(tmp_path) -> None:
    source = """
        import torch
        from torch import nn

        def build_model():
            model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
            model[1].to("meta")
            return model
    """
    path = write_model(tmp_path, "split.py", source)
    snapshot = snap(path)
    assert snapshot.devices == ("cpu", "meta")
    assert any(f.code == "several-devices" for f in snapshot.findings)
    example = "\n        def example_input():\n            return torch.ones(2, 4)\n"
    path = write_model(tmp_path, "split_in.py", source + example)
    with pytest.raises(NetscopeError) as err:
        snap(path)
    message = err.value.message
    assert "spread over several devices" in message and "cpu (e.g. 0.weight)" in message
    assert "meta (e.g. 1.weight)" in message and "in block `1` (Linear)" in message


def test_forward_failure_names_the_block_and_the_users_line(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "fails.py",
        """
        import torch
        from torch import nn

        class Custom(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)

            def forward(self, x):
                return self.lin(x).view(3, 7)  # bad view

        def build_model():
            return nn.Sequential(Custom(), nn.ReLU())

        def wrong_width():
            return nn.Sequential(nn.Linear(4, 8), nn.Linear(5, 2))

        def example_input():
            return torch.ones(2, 4)
    """,
    )
    with pytest.raises(NetscopeError) as err:
        snap(path)
    assert err.value.location == f"{path}:{line_of(path, '# bad view')}"
    assert "in block `0` (Custom)" in err.value.message
    with pytest.raises(NetscopeError) as err:
        snap(f"{path}:wrong_width")
    assert "in block `1` (Linear)" in err.value.message and "mat1 and mat2" in err.value.message


def test_cli_bad_inputs_exit_2_without_traceback(tmp_path, capsys) -> None:
    path = write_model(tmp_path, "anymodel.py", ANY_MODEL)
    raising_source = (
        "from torch import nn\nbuild_model = nn.ReLU\n"
        "def example_input():\n    raise ValueError('no data')  # here\n"
    )
    raising = write_model(tmp_path, "inp.py", raising_source)
    exiting = write_model(tmp_path, "exit.py", "import sys\nsys.exit(3)  # leaves\n")
    cases = {
        f"{path}:not_a_model": ("returned int, not an nn.Module", f"{path}:"),
        f"{path}:exits": ("SystemExit", f"{path}:{line_of(path, 'sys.exit(1)')}"),
        exiting: ("SystemExit: 3", f"{exiting}:2"),
        raising: ("ValueError: no data", f"{raising}:4"),
    }
    for target, (what, where) in cases.items():
        assert main(["report", target, "-o", str(tmp_path / "r.json")]) == 2, target
        err = capsys.readouterr().err
        assert what in err and where in err and "Traceback" not in err, err
    assert not (tmp_path / "r.json").exists()


def test_debug_shows_the_traceback(tmp_path) -> None:
    path = write_model(tmp_path, "m.py", "def build_model():\n    return 3\n")
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "report", path, "-o", str(tmp_path / "r.json"),
         "--debug"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "Traceback" in done.stderr and "NetscopeError" in done.stderr


def test_garbage_and_misnamed_checkpoints(tmp_path) -> None:
    from safetensors.torch import save_file

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"hello world" * 10)
    with pytest.raises(NetscopeError, match=r"neither a torch\.save archive nor a pickle"):
        snap(str(garbage))
    misnamed = tmp_path / "weights.bin"
    save_file({"fc.weight": torch.ones(2, 3)}, str(misnamed))
    snapshot = snap(str(misnamed))
    assert [(p.name, p.shape) for p in snapshot.parameters] == [("fc.weight", (2, 3))]
