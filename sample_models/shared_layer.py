"""One layer used twice: paths 2 and 4 are one block, its weights tied and counted once."""

import torch
from torch import nn


def build_model() -> nn.Module:
    torch.manual_seed(0)
    shared = nn.Linear(8, 8)
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1)
    )


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 4)
