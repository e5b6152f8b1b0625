"""Every module's training flag kept across netscope's own passes: a pass sets eval or train
mode (a user's step may call ``model.train()`` itself) and the model leaves as it came, modules
in mixed modes included (netscope never changes what it watches)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def training_flags_kept(model: nn.Module) -> Iterator[nn.Module]:
    """Restore each module's own ``training`` flag after the block, however it ends."""
    flags = [(module, module.training) for module in model.modules()]
    try:
        yield model
    finally:
        for module, training in flags:
            module.training = training
