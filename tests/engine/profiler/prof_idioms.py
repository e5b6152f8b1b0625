"""One tiny block per sync idiom; each marked line is what the detector must report.

``Outer(idiom)`` nests the idiom block at path ``inner`` so block attribution is checked too.
"""

from __future__ import annotations

import contextlib

import numpy as np
import prof_fake_library as fake_library
import torch
from torch import nn


class Outer(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.pre = nn.Identity()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(self.pre(x))


class Item(nn.Module):
    def forward(self, x):
        return x.sum().item()  # MARK:item


class Float(nn.Module):
    def forward(self, x):
        return float(x.sum())  # MARK:float


class Int(nn.Module):
    def forward(self, x):
        return int(x.sum())  # MARK:int


class Bool(nn.Module):
    def forward(self, x):
        return bool(x.sum() > 0)  # MARK:bool


class If(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # MARK:if
            return x
        return -x


class Tolist(nn.Module):
    def forward(self, x):
        return x.tolist()  # MARK:tolist


class Numpy(nn.Module):
    def forward(self, x):
        return x.numpy()  # MARK:numpy


class NumpyAsarray(nn.Module):
    def forward(self, x):
        return np.asarray(x)  # MARK:asarray


class Cpu(nn.Module):
    def forward(self, x):
        return x.cpu()  # MARK:cpu


class CpuNumpy(nn.Module):
    def forward(self, x):
        return x.cpu().numpy()  # MARK:cpu_numpy


class ToCpu(nn.Module):
    def forward(self, x):
        return x.to("cpu")  # MARK:to_cpu


class Print(nn.Module):
    def forward(self, x):
        print(x)  # MARK:print
        return x


class Format(nn.Module):
    def forward(self, x):
        return f"{x.sum():.3f}"  # MARK:format


class Nonzero(nn.Module):
    def forward(self, x):
        return torch.nonzero(x > 0)  # MARK:nonzero


class WhereOneArg(nn.Module):
    def forward(self, x):
        return torch.where(x > 0)  # MARK:where


class MaskedSelect(nn.Module):
    def forward(self, x):
        return x.masked_select(x > 0)  # MARK:masked_select


class BoolIndex(nn.Module):
    def forward(self, x):
        return x[x > 0]  # MARK:bool_index


class Unique(nn.Module):
    def forward(self, x):
        return torch.unique(x)  # MARK:unique


class Equal(nn.Module):
    def forward(self, x):
        return torch.equal(x, x)  # MARK:equal


class CudaSynchronize(nn.Module):
    def forward(self, x):
        # on a CPU-only build the call itself fails; the detector still sees it
        with contextlib.suppress(AssertionError, RuntimeError):
            torch.cuda.synchronize()  # MARK:synchronize
        return x


class InsideTorch(nn.Module):
    def forward(self, x):
        return nn.functional.one_hot(x.long().abs())  # MARK:inside_torch


class Library(nn.Module):
    def forward(self, x):
        return fake_library.read_back(x)


class Loop(nn.Module):
    def forward(self, x):
        for _ in range(3):
            x.sum().item()  # MARK:loop
        return x


class NoSyncs(nn.Module):
    """Idioms that look close but never wait: no findings expected."""

    def forward(self, x):
        y = x.to(torch.float64)[0:2]
        z = torch.where(x > 0, x, -x)
        return y.shape[0] + len(z) + z.dim()
