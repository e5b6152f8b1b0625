"""The chapter's first network: nn.Sequential with one hidden layer, 20 -> 256 -> 10."""

import torch
from torch import nn


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
