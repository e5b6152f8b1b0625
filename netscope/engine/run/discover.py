"""Which module is "the model" when the script never calls it: its parent, found in the script's
frames.

A LightningModule whose ``training_step`` runs ``z = self.encoder(x); x_hat = self.decoder(z)``
(Lightning's quickstart autoencoder), or a plain loop calling ``model.encoder(x)`` then
``model.decoder(z)``, never calls the model itself: each submodule's call is a top-level call. The
model is the module that owns them, read from the calling frames: the ``self`` of the method
running the step, or a module the script holds in a variable, that has the called module among
its descendants. A ``torch.compile``'d training step runs its module calls inside dynamo's graph,
where no hook of netscope's runs: the model is then the module in the script's frames that holds
the parameters the stepping optimizer updates.

Only the script's frames are read (torch's, netscope's and the standard library's are skipped),
innermost first, a few at most, and each called module is looked up once: nothing is called,
nothing is changed.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import types
import weakref
from collections.abc import Iterator

import torch
from torch import nn

from netscope.engine.run.compile_safe import COMPILED_WRAPPER as COMPILED
from netscope.engine.run.compile_safe import ORIG as COMPILED_INNER

MAX_FRAMES = 4  # the script's frames read, innermost first
_NETSCOPE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SKIPPED = (
    os.path.dirname(torch.__file__) + os.sep,
    _NETSCOPE + os.sep,  # the watcher's and the runner's own frames
    sysconfig.get_paths()["stdlib"] + os.sep,  # runpy, contextlib, ...
)


def script_frames(limit: int = MAX_FRAMES) -> Iterator[types.FrameType]:
    """The calling frames that are the script's (or a framework's) code, innermost first."""
    frame: types.FrameType | None = sys._getframe(1)
    found = 0
    while frame is not None and found < limit:
        name = frame.f_code.co_filename
        if not name.startswith(_SKIPPED) and not name.startswith("<frozen"):
            found += 1
            yield frame
        frame = frame.f_back


def _modules_of(frame: types.FrameType) -> list[nn.Module]:
    """The modules a frame holds: its ``self`` first, then its variables (a script's globals)."""
    found: dict[int, nn.Module] = {}
    owner = frame.f_locals.get("self")
    if isinstance(owner, nn.Module):
        found[id(owner)] = owner
    for value in list(frame.f_locals.values()):
        if isinstance(value, nn.Module):
            found.setdefault(id(value), value)
    return list(found.values())


def owner_in_frames(module: nn.Module) -> nn.Module | None:
    """The largest module in the innermost script frame holding one that has ``module`` as a
    strict descendant (the LightningModule whose ``training_step`` calls ``self.encoder``). A
    wrapper of the module alone (DDP's ``module``, ``torch.compile``'s ``_orig_mod``, an EMA
    holding the live model) is not its owner: the script calling ``model(x)`` calls the model."""
    for frame in script_frames():
        owners = [
            m
            for m in _modules_of(frame)
            if m is not module and _contains(m, module) and list(m.children()) != [module]
        ]
        if owners:
            owner = max(owners, key=lambda m: sum(1 for _ in m.modules()))
            return _unwrapped(owner, module)
    return None


def _unwrapped(owner: nn.Module, module: nn.Module) -> nn.Module:
    """``owner`` without the wrappers around it (an EMA or DDP holding the model alone)."""
    for _ in range(8):
        children = list(owner.children())
        if len(children) != 1 or children[0] is module or not _contains(children[0], module):
            break
        owner = children[0]
    return owner


def model_of_parameters(param_ids: frozenset[int]) -> nn.Module | None:
    """The module in the innermost script frame holding one that holds the most of these
    parameters (the smallest such module when several hold as many)."""
    if not param_ids:
        return None
    for frame in script_frames():
        scored = []
        for candidate in _modules_of(frame):
            ids = {id(p) for p in candidate.parameters()}
            shared = len(ids & param_ids)
            if shared:
                scored.append((shared, -len(ids), candidate))
        if scored:
            return max(scored, key=lambda row: row[:2])[2]
    return None


def _contains(parent: nn.Module, module: nn.Module) -> bool:
    return any(sub is module for sub in parent.modules())


class Owners:
    """Each called module's owner (the module itself when it has none), looked up once."""

    def __init__(self) -> None:
        self._owner: dict[int, tuple[weakref.ref[nn.Module], weakref.ref[nn.Module]]] = {}
        self._lead: dict[int, int] = {}  # id(owner) -> id of its first called member

    def owner(self, module: nn.Module) -> nn.Module:
        """The module a top-level call of ``module`` is a call of."""
        known = self._owner.get(id(module))
        if known is not None and known[0]() is module:
            found = known[1]()
            if found is not None:
                return found
        found = self._compiled_known(module)
        if found is None and any(True for _ in module.parameters()):
            found = owner_in_frames(module)
        found = found if found is not None else module
        self._owner[id(module)] = (weakref.ref(module), weakref.ref(found))
        if found is not module:
            self._lead.setdefault(id(found), id(module))
        return found

    def _compiled_known(self, module: nn.Module) -> nn.Module | None:
        """A ``torch.compile`` wrapper of a module already called eagerly (a loop compiling its
        model once steady): a call of the wrapper is a call of that module, one model."""
        inner = getattr(module, COMPILED_INNER, None)
        if type(module).__name__ != COMPILED or not isinstance(inner, nn.Module):
            return None
        known = self._owner.get(id(inner))
        if known is None or known[0]() is not inner:
            return None
        return known[1]()

    def known_owner(self, module: nn.Module) -> nn.Module:
        """The owner already found for ``module`` (at its call's return): no frame is read."""
        known = self._owner.get(id(module))
        found = known[1]() if known is not None and known[0]() is module else None
        return found if found is not None else module

    def leads(self, called: nn.Module, owner: nn.Module) -> bool:
        """Does this call start a new call of the owner? The owner's own call, or its first
        member's: a step calling the encoder then the decoder calls the model once."""
        return called is owner or self._lead.get(id(owner)) == id(called)
