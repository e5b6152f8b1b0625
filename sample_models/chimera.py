"""The chapter's "chimera": NestMLP, a Linear and FixedHiddenMLP mixed in one Sequential."""

import torch
from fixed_hidden_mlp import FixedHiddenMLP
from nest_mlp import NestMLP
from torch import nn


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 20)
