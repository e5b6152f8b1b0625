"""NestMLP: a custom block that holds a Sequential, followed by a Linear."""

import torch
from torch import nn


class NestMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.linear(self.net(X))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(NestMLP(), nn.Linear(16, 20))


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
