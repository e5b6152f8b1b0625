"""The model whose real worker stream tests/app/recorded/live_stream.pkl holds (see record.py).

A custom root, a tied embedding/head pair, a lazy Linear (shape known only after the forward),
a block called twice and a ``.item()`` sync in the forward."""

import torch
from torch import nn


class LiveNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.body = nn.Sequential(nn.LazyLinear(8), nn.ReLU())
        self.shared = nn.Linear(8, 8)
        self.head = nn.Linear(8, 10, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).mean(1)
        x = self.shared(self.shared(self.body(x)))
        if x.abs().sum().item() > 1e9:  # a host sync the profiler finds
            x = x * 0
        return self.head(x)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return LiveNet()


def example_input() -> torch.Tensor:
    return torch.randint(0, 10, (2, 4))
