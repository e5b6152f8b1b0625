"""Custom layers: CenteredLayer (no parameters) and MyLinear (its own weight and bias)."""

import torch
from torch import nn
from torch.nn import functional as F


class CenteredLayer(nn.Module):
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X - X.mean()


class MyLinear(nn.Module):
    def __init__(self, in_units: int, units: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return F.relu(torch.matmul(X, self.weight.data) + self.bias.data)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(MyLinear(64, 8), nn.Linear(8, 128), CenteredLayer())


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 64)
