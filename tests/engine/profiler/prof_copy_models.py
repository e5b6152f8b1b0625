"""Blocks that move data to the meta device (the stand-in second device on a CPU-only machine)."""

from __future__ import annotations

import torch
from torch import nn


class ToMeta(nn.Module):
    def forward(self, x):
        return x.to("meta")  # MARK:to_meta


class ToMetaNonBlocking(nn.Module):
    def forward(self, x):
        return x.to("meta", non_blocking=True)  # MARK:to_meta_nb


class TensorOnMeta(nn.Module):
    def forward(self, x):
        return torch.tensor([1.0, 2.0, 3.0], device="meta")  # MARK:tensor_meta


class AsTensorOnMeta(nn.Module):
    def forward(self, x):
        return torch.as_tensor([[1, 2], [3, 4]], dtype=torch.int64, device="meta")  # MARK:as_tensor


class NewTensor(nn.Module):
    def forward(self, x):
        target = torch.empty(1, device="meta")
        return target.new_tensor([1.0, 2.0])  # MARK:new_tensor


class CopyInto(nn.Module):
    def forward(self, x):
        target = torch.empty(x.shape, device="meta")
        return target.copy_(x)  # MARK:copy_


class ManySmall(nn.Module):
    def forward(self, x):
        for row in x:
            row.to("meta")  # MARK:many_small
        return x


class BornOnMeta(nn.Module):
    """Allocating on the device moves no data: not a copy."""

    def forward(self, x):
        return torch.ones(4, 4, device="meta") + torch.zeros(4, device="meta")


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.small = ToMeta()
        self.big = nn.Identity()

    def forward(self, x):
        self.small(x[:1])
        big = self.big(x)
        big.to("meta")  # MARK:mixed_big
        return x
