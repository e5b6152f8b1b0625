"""A hand-written Sequential: blocks kept in _modules, called in insertion order."""

import torch
from torch import nn


class MySequential(nn.Module):
    def __init__(self, *args: nn.Module) -> None:
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for block in self._modules.values():
            X = block(X)
        return X


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
