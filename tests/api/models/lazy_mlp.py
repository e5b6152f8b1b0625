"""An MLP whose first layer is lazy: its input size comes from the first forward."""

import torch
from torch import nn


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.Linear(16, 4))


def example_input() -> torch.Tensor:
    return torch.randn(3, 7, generator=torch.Generator().manual_seed(1))
