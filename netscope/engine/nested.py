"""The tensors nested in a model's inputs and outputs (lists, tuples, named tuples, dicts and
whatever torch's pytree knows, transformers' ModelOutput included): one walk, with its depth and
count limits as parameters, for every part of netscope that looks inside such a value.

Per-op argument scans inside dispatch modes stay hand-written: they look one level deep on every
op, where a pytree walk would cost several microseconds each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils import _pytree as pytree


def labelled_tensors(
    value: Any, max_depth: int | None = None, limit: int | None = None
) -> list[tuple[str, torch.Tensor]]:
    """Tensors in ``value`` with labels such as ``0``, ``logits`` or ``1.hidden`` ("" for a bare
    tensor), in order; none deeper than ``max_depth`` containers, at most ``limit`` of them."""
    if isinstance(value, torch.Tensor):
        return [("", value)]
    found: list[tuple[str, torch.Tensor]] = []
    for path, leaf in pytree.tree_flatten_with_path(value)[0]:
        if not isinstance(leaf, torch.Tensor):
            continue
        if max_depth is not None and len(path) > max_depth:
            continue
        found.append((".".join(_key_text(key) for key in path), leaf))
        if len(found) == limit:
            break
    return found


def tensors_in(
    value: Any, max_depth: int | None = None, limit: int | None = None
) -> list[torch.Tensor]:
    """The tensors of ``labelled_tensors``, without their labels."""
    if isinstance(value, torch.Tensor):
        return [value]
    return [tensor for _, tensor in labelled_tensors(value, max_depth, limit)]


def map_tensors(change: Callable[[torch.Tensor], Any], value: Any) -> Any:
    """``value`` rebuilt with ``change(t)`` for every nested tensor ``t``, containers kept."""
    return pytree.tree_map_only(torch.Tensor, change, value)


def _key_text(key: Any) -> str:
    for attribute in ("key", "idx", "name"):  # MappingKey, SequenceKey, GetAttrKey
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def plain_tensor_attributes(model: Any) -> list[torch.Tensor]:
    """The plain tensors ``model``'s blocks hold as attributes, neither parameter nor buffer (a
    block's ``self.scale = torch.linspace(...)``, a list of masks): a copy of the model on meta
    or fake tensors must carry them too, or its forward mixes them with the copied weights."""
    found: dict[int, torch.Tensor] = {}
    for module in model.modules():
        attributes = [v for k, v in vars(module).items() if k not in _MODULE_TABLES]
        for tensor in tensors_in(attributes, max_depth=3):
            if type(tensor) is torch.Tensor:
                found.setdefault(id(tensor), tensor)
    return list(found.values())


_MODULE_TABLES = frozenset({"_parameters", "_buffers", "_modules"})
