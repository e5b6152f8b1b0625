"""FixedHiddenMLP: a constant tensor that is no parameter, and Python control flow in forward."""

import torch
from torch import nn
from torch.nn import functional as F


class FixedHiddenMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # Not trained, not a buffer: not saved in state_dict and not moved by .to().
        self.rand_weight = torch.rand((20, 20), requires_grad=False)
        self.linear = nn.Linear(20, 20)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)  # the same layer again: its parameters are shared by both calls
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return FixedHiddenMLP()


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
