"""Deferred initialization: LazyLinear learns its input size at the first forward."""

import torch
from torch import nn


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
