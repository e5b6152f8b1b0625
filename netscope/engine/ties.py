"""Tie groups: names that share one Parameter object or overlapping storage.

Two names are tied when they are the same tensor object, or when their byte ranges overlap in
one storage (a state_dict saved with tied weights keeps both names on one storage). Meta tensors
have no data pointer, so their storages are told apart by the storage object itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch.nn.parameter import is_lazy


@dataclass(frozen=True)
class Tie:
    names: tuple[str, ...]
    how: str  # "same parameter" or "shared storage"


def _storage_key(tensor: torch.Tensor) -> tuple[torch.device, int] | None:
    """(device, storage address); the device object itself is the key (``str`` of 40,000
    devices was a third of the ties' time on 20,000 blocks)."""
    try:
        storage = tensor.untyped_storage()
        ptr = storage.data_ptr()
    except (RuntimeError, NotImplementedError):  # tensor subclasses without (valid) storage
        return None
    if ptr:
        return tensor.device, ptr
    device = tensor.device
    if storage.nbytes() == 0 and device.type != "meta":
        return None
    return device, -storage._cdata


def _local_shards(items: list[tuple[str, torch.Tensor]]) -> dict[int, torch.Tensor]:
    """A DTensor's storage is its local shard's (the DTensor itself has none to point at)."""
    package = sys.modules.get("torch.distributed.tensor")
    dtensor = getattr(package, "DTensor", None)
    if dtensor is None:
        return {}
    return {i: t._local_tensor for i, (_, t) in enumerate(items) if isinstance(t, dtensor)}


def _byte_range(tensor: torch.Tensor) -> tuple[int, int]:
    size = tensor.element_size()
    start = int(tensor.storage_offset()) * size
    extent = 1 + sum(
        (int(n) - 1) * int(s) for n, s in zip(tensor.shape, tensor.stride(), strict=False) if n > 0
    )
    return start, start + (extent if tensor.numel() else 0) * size


def find_ties(named: Iterable[tuple[str, torch.Tensor]]) -> list[Tie]:
    """Groups of two or more names that are one tensor, in first-seen order of their names."""
    items = list(named)
    parent = list(range(len(items)))
    shards = _local_shards(items)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by_id: dict[int, int] = {}
    by_storage: dict[tuple[torch.device, int], list[int]] = {}
    for index, (_name, tensor) in enumerate(items):
        earlier = first_by_id.setdefault(id(tensor), index)
        if earlier != index:
            parent[root(index)] = root(earlier)
            continue
        if is_lazy(tensor):
            continue
        local = shards.get(index, tensor)
        key = _storage_key(local)
        if key is not None and local.numel():
            by_storage.setdefault(key, []).append(index)
    for indices in by_storage.values():
        if len(indices) < 2:  # byte ranges matter only where a storage holds several tensors
            continue
        ranges = sorted((*_byte_range(shards.get(i, items[i][1])), i) for i in indices)
        reach, holder = ranges[0][1], ranges[0][2]
        for start, end, index in ranges[1:]:
            if start < reach:
                a, b = root(holder), root(index)
                if a != b:
                    parent[b] = a
            if end > reach:
                reach, holder = end, index
    joined = [i for i in range(len(items)) if parent[i] != i]
    if not joined:
        return []
    groups: dict[int, list[int]] = {}
    for index in sorted({*joined, *(root(i) for i in joined)}):
        groups.setdefault(root(index), []).append(index)
    ties = []
    for members in sorted(groups.values(), key=lambda m: m[0]):
        if len(members) < 2:
            continue
        ids = {id(items[i][1]) for i in members}
        how = "same parameter" if len(ids) == 1 else "shared storage"
        ties.append(Tie(tuple(items[i][0] for i in members), how))
    return ties
