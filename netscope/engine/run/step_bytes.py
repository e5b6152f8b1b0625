"""What one step of the script's loop holds, counted from what the step allocates.

A batch is often a view of a tensor that was alive before the step: a slice of one big token
tensor, a memory-mapped corpus, a dataset kept on the device. Its storage is the whole dataset;
the step holds only the slice. A tensor whose storage the step did not allocate counts the bytes
its view spans (an Embedding's saved indices: 4 KB, not the 12.8 MB token tensor behind them);
a storage the step's own ops allocated counts whole, once (several views of one activation).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from netscope.engine.compute.allocations import local_tensor, storage_key
from netscope.engine.compute.counter import StepCounter


def view_bytes(tensor: torch.Tensor) -> int:
    """The bytes of storage a view spans, from its first to its last element (stride 0 once)."""
    local = local_tensor(tensor)
    if local.numel() == 0:
        return 0
    span = 1 + sum(
        (size - 1) * abs(stride) for size, stride in zip(local.shape, local.stride(), strict=True)
    )
    return span * local.element_size()


def held_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes the tensors hold: per storage, the views' spans (never more than the storage)."""
    spans: dict[int, tuple[int, int]] = {}  # storage -> (its bytes, the views' spans so far)
    for tensor in tensors:
        key = storage_key(tensor)
        if key is None:
            continue
        total, spanned = spans.get(key[0], (key[1], 0))
        spans[key[0]] = (total, spanned + view_bytes(tensor))
    return sum(min(total, spanned) for total, spanned in spans.values())


class RunStepCounter(StepCounter):
    """The counting mode of ``StepWatch``: saved activations are what the step allocated."""

    def __init__(self, paths: dict[int, str]) -> None:
        super().__init__(paths)
        self.saved_views: set[tuple[int, int, int]] = set()  # (storage, offset, bytes) counted

    def forget_saved(self) -> None:
        super().forget_saved()
        self.saved_views.clear()

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        key = storage_key(tensor)
        if key is None or key[0] in self.memory.live or key[0] in self.excluded:
            return super().pack(tensor)  # the step's own storage: counted whole, once
        if isinstance(tensor, nn.Parameter) or isinstance(tensor._base, nn.Parameter):
            return super().pack(tensor)
        spanned = view_bytes(tensor)
        if spanned >= key[1]:
            return super().pack(tensor)  # the view is the whole storage (a fresh batch)
        view = (key[0], int(local_tensor(tensor).storage_offset()), spanned)
        if view in self.saved_views:
            return tensor
        self.saved_views.add(view)
        chain = self.chain
        for block in set(chain) if len(chain) > 1 else chain:
            self.saved[block] += spanned
        if chain:
            self.saved[-1] += spanned
        return tensor
