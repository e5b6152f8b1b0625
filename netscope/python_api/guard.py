"""A second lock on the caller's model: whatever happens inside ``inspect`` (an error half way
through the engine's passes included), each module's training flag, each parameter's
``requires_grad`` and ``.grad`` come back as they were. The engine restores them itself; this
makes the promise hold for the API's own steps too, at the cost of one walk over the model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from netscope.engine.modes import training_flags_kept


@contextmanager
def kept_as_found(model: nn.Module) -> Iterator[None]:
    if not isinstance(model, nn.Module):  # inspect names the mistake
        yield
        return
    params = list({id(p): p for p in model.parameters()}.values())
    grads = [(param, param.requires_grad, param.grad) for param in params]
    try:
        with training_flags_kept(model):
            yield
    finally:
        for param, requires_grad, grad in grads:
            if param.requires_grad != requires_grad:
                param.requires_grad_(requires_grad)
            if param.grad is not grad:
                param.grad = grad
