"""Two MLP blocks split over tensor-parallel ranks (up ColwiseParallel, down RowwiseParallel),
as a netscope model file: the plan of ``--tp 2`` is checked against benchmarks/plan/tp_real.py."""

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(64, 256)
        self.down = nn.Linear(256, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(MLP(), MLP())


def example_input() -> torch.Tensor:
    return torch.randn(32, 64, generator=torch.Generator().manual_seed(0))


def loss(output: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
    return output.float().mean()


def tp_plan(model: nn.Module) -> dict[str, str]:
    return {"*.up": "colwise", "*.down": "rowwise"}
