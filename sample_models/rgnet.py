"""The block factory network: nested names such as 0.block2.0.block1.0.weight."""

import torch
from torch import nn


def block1() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())


def block2() -> nn.Module:
    net = nn.Sequential()
    for i in range(4):
        net.add_module(f"block{i}", block1())
    return net


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(block2(), nn.Linear(4, 1))


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 4)
