"""The file's loss: ``loss(output, batch)`` as documented, ``loss(output)`` too, others named."""

from __future__ import annotations

import pytest
from core_helpers import line_of, snap, write_model

from netscope.engine.errors import NetscopeError

MODEL = """
import torch
from torch import nn

def build_model():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))

def example_input():
    return torch.ones(2, 4)

{loss}
"""


def _grads(path: str, called_as: str = "loss(output, batch)") -> dict[str, bool]:
    snapshot = snap(path)
    assert snapshot.forward.loss_source == called_as  # what was called, as it was called
    return {p.name: p.grad is not None and p.grad.present for p in snapshot.parameters}


@pytest.mark.parametrize(
    "loss",
    [
        "def loss(output, batch):\n    return (output - batch.sum()).pow(2).mean()",
        "def loss(output):\n    return output.pow(2).mean()  # one argument",
        "def loss(output, batch=None, *, scale=1.0):\n    return output.mean() * scale",
        "loss = lambda out, *rest: out.sum()",
    ],
)
def test_every_usual_signature_gives_gradients(tmp_path, loss: str) -> None:
    path = write_model(tmp_path, "m.py", MODEL.format(loss=loss))
    grads = _grads(path, "loss(output)" if "one argument" in loss else "loss(output, batch)")
    assert grads and all(grads.values()), grads


def test_a_loss_that_cannot_take_the_output_is_named_with_its_line(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "m.py",
        MODEL.format(loss="def loss(output, batch, target):  # three\n    return output.mean()"),
    )
    with pytest.raises(NetscopeError) as err:
        snap(path)
    assert "cannot be called as loss(output, batch) or loss(output)" in err.value.message
    assert err.value.location == f"{path}:{line_of(path, '# three')}"
