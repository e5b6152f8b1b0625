"""Each bad input gives a NetscopeError naming the file and the user's file:line."""

from __future__ import annotations

import pytest
from core_helpers import line_of, snap, write_model

from netscope.engine.errors import NetscopeError


def _error(target: str, **options: object) -> NetscopeError:
    with pytest.raises(NetscopeError) as err:
        snap(target, **options)
    return err.value


def test_missing_file(tmp_path) -> None:
    assert "no such model file" in str(_error(str(tmp_path / "nope.py")))
    assert "nope.pt" in str(_error(str(tmp_path / "nope.pt")))


def test_syntax_error(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "broken.py",
        """
        from torch import nn

        def build_model(:
            return nn.ReLU()
    """,
    )
    error = _error(path)
    assert error.location == f"{path}:3" and "SyntaxError" in error.message


def test_exception_at_import(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "boom.py",
        """
        import torch

        SIZE = int("twenty")  # boom
    """,
    )
    error = _error(path)
    assert error.location == f"{path}:{line_of(path, '# boom')}"
    assert "importing" in error.message and "ValueError" in error.message


def test_factory_raises_and_returns_non_module(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "factories.py",
        """
        from torch import nn

        def helper():
            raise RuntimeError("no GPU weights here")  # raise line

        def build_model():
            return helper()

        def not_a_model():
            return 42
    """,
    )
    error = _error(path)
    assert error.location == f"{path}:{line_of(path, '# raise line')}"
    assert "build_model() in" in error.message and "no GPU weights" in error.message
    error = _error(f"{path}:not_a_model")
    assert "returned int, not an nn.Module" in error.message
    assert error.location == f"{path}:{line_of(path, 'def not_a_model')}"
    assert "defines no missing()" in _error(f"{path}:missing").message


def test_forward_raises(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "fwd.py",
        """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x.view(3, 3))  # bad view

        def build_model():
            return Net()

        def example_input():
            return torch.ones(2, 4)
    """,
    )
    error = _error(path)
    assert error.location == f"{path}:{line_of(path, '# bad view')}"
    assert "example forward" in error.message


def test_example_input_raises(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "inp.py",
        """
        from torch import nn

        def build_model():
            return nn.ReLU()

        def example_input():
            return undefined_name  # here
    """,
    )
    error = _error(path)
    assert error.location == f"{path}:{line_of(path, '# here')}" and "NameError" in error.message


def test_input_on_another_device_than_the_weights(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "split.py",
        """
        import torch
        from torch import nn

        class Offset(nn.Module):
            def __init__(self):
                super().__init__()
                self.offset = nn.Parameter(torch.zeros(4, device="meta"))

            def forward(self, x):
                return x + self.offset  # add

        def build_model():
            return Offset()

        def example_input():
            return torch.ones(2, 4)
    """,
    )
    error = _error(path)
    assert "example input is on cpu" in error.message and "weights are on meta" in error.message
    assert error.location == f"{path}:{line_of(path, '# add')}"


def test_bad_dtype_and_cli_exit_code(tmp_path, capsys) -> None:
    from netscope.cli import main

    path = write_model(tmp_path, "m.py", "from torch import nn\nbuild_model = nn.ReLU\n")
    assert "unknown --input-dtype" in _error(path, input_shape=(1,), input_dtype="float99").message
    broken = write_model(tmp_path, "bad.py", "x = (\n")
    assert main(["report", broken, "-o", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "bad.py:1" in err and "Traceback" not in err
