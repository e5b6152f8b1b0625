"""Every module's training flag kept across netscope's own passes: a pass sets eval or train
mode (a user's step may call ``model.train()`` itself) and the model leaves as it came, modules
in mixed modes included (netscope never changes what it watches)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from torch import nn


def _plain(modules: Sequence[nn.Module]) -> bool:
    """No class in the tree overrides ``train`` or ``__setattr__`` nor defines ``training``
    itself: setting the flag in each module's ``__dict__`` is then exactly what ``train`` and
    ``module.training = flag`` do, without their Python calls (20,000 blocks: ~0.1 s of the
    snapshot's eval and restore)."""
    return all(
        cls.train is nn.Module.train
        and cls.__setattr__ is nn.Module.__setattr__
        and not hasattr(cls, "training")
        for cls in {type(module) for module in modules}
    )


def set_training(model: nn.Module, mode: bool, modules: Sequence[nn.Module] | None = None) -> None:
    """``model.train(mode)``: every module's flag, a class's own ``train`` honoured.
    ``modules``: ``model.modules()``, if the caller has walked them."""
    modules = list(model.modules()) if modules is None else modules
    if not _plain(modules):
        model.train(mode)
        return
    for module in modules:
        module.__dict__["training"] = mode


@contextmanager
def training_flags_kept(
    model: nn.Module, modules: Sequence[nn.Module] | None = None
) -> Iterator[nn.Module]:
    """Restore each module's own ``training`` flag after the block, however it ends.
    ``modules``: ``model.modules()``, if the caller has walked them."""
    walked = model.modules() if modules is None else modules
    flags = [(module, module.training) for module in walked]
    try:
        yield model
    finally:
        if _plain([module for module, _ in flags]):
            for module, training in flags:
                module.__dict__["training"] = training
        else:
            for module, training in flags:
                module.training = training
