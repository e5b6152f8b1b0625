"""Blocks that move data between the host and the device their input lives on.

The tests run them on the stand-in GPU (no GPU here): ``x`` is a device tensor, tensors built
without a device are host tensors, exactly as on CUDA.
"""

from __future__ import annotations

import torch
from torch import nn


class ToDevice(nn.Module):
    def forward(self, x):
        host = torch.ones(x.shape)
        return host.to(x.device)  # MARK:to_device


class ToDeviceNonBlocking(nn.Module):
    def forward(self, x):
        host = torch.ones(x.shape)
        return host.to(x.device, non_blocking=True)  # MARK:to_device_nb


class TensorOnDevice(nn.Module):
    def forward(self, x):
        return torch.tensor([1.0, 2.0, 3.0], device=x.device)  # MARK:tensor_device


class AsTensorOnDevice(nn.Module):
    def forward(self, x):
        return torch.as_tensor([[1, 2], [3, 4]], dtype=torch.int64, device="cuda")  # MARK:as_tensor


class NewTensor(nn.Module):
    def forward(self, x):
        return x.new_tensor([1.0, 2.0])  # MARK:new_tensor


class CopyInto(nn.Module):
    def forward(self, x):
        host = torch.ones(x.shape)
        target = torch.empty(x.shape, device=x.device)
        return target.copy_(host)  # MARK:copy_


class ManySmall(nn.Module):
    def forward(self, x):
        for row in x:
            row.to("cpu")  # MARK:many_small
        return x


class BornOnDevice(nn.Module):
    """Allocating on the device moves no data, and moving to where a tensor is moves nothing."""

    def forward(self, x):
        made = torch.ones(4, 4, device=x.device) + torch.zeros(4, device="cuda")
        return made.to(x.device) + x.to(made.device).sum()


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.small = ToDevice()
        self.big = nn.Identity()

    def forward(self, x):
        self.small(x[:1])
        big = torch.ones(x.shape)
        self.big(big).to(x.device)  # MARK:mixed_big
        return x
