"""``model.py --weights CKPT``: load a checkpoint into the model and record how the keys line up."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from netscope.engine.dtypes import dtype_name
from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.load.checkpoint import Checkpoint
from netscope.engine.model import CheckpointDiff, Mismatch
from netscope.engine.ties import find_ties

PREFIX_ORIGINS = {
    "module.": "DataParallel and DistributedDataParallel hold the model as .module",
    "_orig_mod.": "torch.compile's wrapper holds the model as ._orig_mod",
    "model.": "a PyTorch Lightning LightningModule holding the model as self.model saves this",
}


def _strip_prefix(keys: list[str], wanted: set[str]) -> str:
    """A prefix such as ``model.``, ``module.`` or ``_orig_mod.module.`` whose removal makes the
    keys match the model (one or two leading name parts), or ""."""
    best, best_hits = "", sum(k in wanted for k in keys)
    candidates: set[str] = set()
    for key in keys:
        parts = key.split(".")
        candidates.update(".".join(parts[:n]) + "." for n in (1, 2) if len(parts) > n)
    for prefix in sorted(candidates, key=len):
        hits = sum(k[len(prefix) :] in wanted for k in keys if k.startswith(prefix))
        if hits > best_hits:
            best, best_hits = prefix, hits
    return best


def prefix_note(prefix: str) -> str:
    """What a stripped prefix means and how to load the file without netscope's help."""
    origins = [
        PREFIX_ORIGINS[p + "."] for p in prefix.rstrip(".").split(".") if p + "." in PREFIX_ORIGINS
    ]
    origin = f" ({'; '.join(origins)})" if origins else ""
    return (
        f"every matched key starts with {prefix!r}{origin}: netscope compared the keys without "
        f"it, but model.load_state_dict() on this file fails (every key unexpected, every one "
        f"missing). Strip it before loading: torch.nn.modules.utils."
        f"consume_prefix_in_state_dict_if_present(state_dict, {prefix!r}); or save the inner "
        f"model's state_dict() next time"
    )


def apply_weights(model: nn.Module, checkpoint: Checkpoint, *, load: bool = True) -> CheckpointDiff:
    """Compare ``checkpoint`` with ``model.state_dict()``, then load every key that fits.

    Shape-mismatched keys are left out (torch would refuse the whole load); dtype mismatches are
    loaded (copied with a cast) and reported. ``load=False`` (meta device) only compares.
    """
    model_sd = model.state_dict(keep_vars=True)
    prefix = _strip_prefix(list(checkpoint.tensors), set(model_sd))
    ckpt = {
        (k[len(prefix) :] if prefix and k.startswith(prefix) else k): v
        for k, v in checkpoint.tensors.items()
    }
    partners: dict[str, tuple[str, ...]] = {}
    for tie in find_ties(model_sd.items()):
        for name in tie.names:
            partners[name] = tie.names
    missing, covered, mismatched, to_load = [], [], [], {}
    for key, tensor in model_sd.items():
        stored = ckpt.get(key)
        if stored is None:
            partner = next((p for p in partners.get(key, ()) if p != key and p in ckpt), None)
            if partner is None:
                missing.append(key)
            else:
                covered.append((key, partner))
            continue
        lazy = is_lazy(tensor)
        model_shape = None if lazy else tuple(tensor.shape)
        if not lazy and model_shape != tuple(stored.shape):
            mismatched.append(_mismatch(key, tensor, stored, "shape", model_shape))
            continue
        if tensor.dtype != stored.dtype:
            mismatched.append(_mismatch(key, tensor, stored, "dtype", model_shape))
        to_load[key] = stored
    unexpected = [k for k in ckpt if k not in model_sd]
    disagree = _tied_values_differ(partners, to_load) if load else []
    if load and to_load:
        try:
            with torch.no_grad():
                model.load_state_dict(to_load, strict=False)
        except Exception as exc:
            raise NetscopeError(
                f"loading {display_path(checkpoint.path)} into the model failed: "
                f"{type(exc).__name__}: {exc}",
                path=checkpoint.path,
            ) from exc
    return CheckpointDiff(
        path=display_path(checkpoint.path),
        missing=tuple(missing),
        unexpected=tuple(unexpected),
        mismatched=tuple(mismatched),
        covered_by_tie=tuple(covered),
        loaded=len(to_load) if load else 0,
        stripped_prefix=prefix,
        notes=(*((prefix_note(prefix),) if prefix else ()), *checkpoint.notes, *disagree),
    )


def _tied_values_differ(
    partners: dict[str, tuple[str, ...]], to_load: dict[str, torch.Tensor]
) -> list[str]:
    """A note per tie group the checkpoint stores under two or more keys with different values:
    the model holds one tensor, so the key loaded last (the model's state_dict order) wins."""
    notes = []
    for names in dict.fromkeys(partners.values()):
        stored = [name for name in names if name in to_load]
        if len(stored) < 2 or any(to_load[name].is_meta for name in stored):
            continue
        first = to_load[stored[0]]
        if all(_same_values(first, to_load[name]) for name in stored[1:]):
            continue
        notes.append(
            f"the checkpoint holds different values for {', '.join(stored)}, which the model "
            f"ties (one tensor): it now holds those of {stored[-1]}, loaded last"
        )
    return notes


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    same_storage = a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    return (same_storage and a.stride() == b.stride()) or bool(torch.equal(a, b))


def _mismatch(
    key: str,
    tensor: torch.Tensor,
    stored: torch.Tensor,
    kind: Literal["shape", "dtype"],
    model_shape: tuple[int, ...] | None,
) -> Mismatch:
    return Mismatch(
        key=key,
        model_shape=model_shape,
        checkpoint_shape=tuple(stored.shape),
        model_dtype=dtype_name(tensor.dtype),
        checkpoint_dtype=dtype_name(stored.dtype),
        kind=kind,
    )
