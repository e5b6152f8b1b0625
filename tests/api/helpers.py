"""Shared by the API tests: the model files' own build (the CLI imports the same files), the CLI's
JSON for them, and a full record of a model's state to compare before and after ``inspect``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from netscope.engine.load.modelfile import import_model_file

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(__file__).resolve().parent / "models"
NAMING = ("target",)  # top-level fields naming the target; model.source too (normalized)


def model_file(name: str) -> str:
    return str((MODELS / f"{name}.py").relative_to(REPO))


def imported(name: str) -> ModuleType:
    """The model file imported as ``netscope report`` imports it (same module name)."""
    return import_model_file(model_file(name))


def cli_json(tmp_path: Path, name: str, *options: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        [sys.executable, "-m", "netscope", "report", model_file(name), "-o", str(out), *options],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def normalized(report: dict[str, Any]) -> dict[str, Any]:
    """The report less what names the target and where its input came from: the CLI's says
    ``model.py``, ``build_model``'s line and ``from example_input()``."""
    data = json.loads(json.dumps(report))  # plain JSON values, as a file holds them
    for key in NAMING:
        data.pop(key)
    data["model"].pop("source")
    summary = data["forward"]["input_summary"]
    data["forward"]["input_summary"] = summary.rsplit(" from ", 1)[0] if summary else summary
    return data


def hook_count(model: nn.Module) -> int:
    """Every hook on the model's modules and tensors, and torch's global module hooks."""
    from torch.nn.modules import module as torch_module

    per_module = sum(
        len(getattr(m, name))
        for m in model.modules()
        for name in dir(m)
        if name.endswith("_hooks") and isinstance(getattr(m, name, None), dict)
    )
    per_tensor = sum(
        len(t._backward_hooks or {}) + len(getattr(t, "_post_accumulate_grad_hooks", None) or {})
        for t in (*model.parameters(), *model.buffers())
    )
    global_hooks = sum(
        len(getattr(torch_module, name))
        for name in dir(torch_module)
        if name.startswith("_global_") and name.endswith("_hooks")
    )
    return per_module + per_tensor + global_hooks


def state_of(model: nn.Module) -> dict[str, Any]:
    """Everything inspect promises to leave alone, copied (values, not references)."""
    params = dict(model.named_parameters(remove_duplicate=False))
    return {
        "values": {
            k: None if is_lazy(v) else v.detach().clone()
            for k, v in model.state_dict(keep_vars=True).items()
        },
        "identity": {k: id(v) for k, v in params.items()},
        "lazy": sorted(k for k, v in params.items() if is_lazy(v)),
        "training": [(name, m.training) for name, m in model.named_modules(remove_duplicate=False)],
        "requires_grad": {k: v.requires_grad for k, v in params.items()},
        "grads": {k: None if v.grad is None else v.grad.clone() for k, v in params.items()},
        "grad_identity": {k: id(v.grad) for k, v in params.items()},
        "devices": sorted({str(t.device) for t in (*model.parameters(), *model.buffers())}),
        "dtypes": sorted({str(t.dtype) for t in model.state_dict().values()}),
        "hooks": hook_count(model),
    }  # fmt: skip


def assert_same_state(before: dict[str, Any], after: dict[str, Any]) -> None:
    for key in ("identity", "lazy", "training", "requires_grad", "grad_identity", "devices",
                "dtypes", "hooks"):  # fmt: skip
        assert before[key] == after[key], key
    assert before["values"].keys() == after["values"].keys()
    for name, value in before["values"].items():
        other = after["values"][name]
        assert (value is None) == (other is None), name
        if value is not None and value.is_meta:  # no values: its shape is what it has
            assert other.is_meta and value.shape == other.shape, f"{name} changed"
        elif value is not None:
            assert torch.equal(value, other), f"{name} changed"
    for name, grad in before["grads"].items():
        other = after["grads"][name]
        assert (grad is None) == (other is None), name
        if grad is not None:
            assert torch.equal(grad, other), f"{name}.grad changed"
