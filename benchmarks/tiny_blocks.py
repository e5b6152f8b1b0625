"""20,000 tiny blocks: a ModuleList of Linear(4, 4) applied in sequence (the scale benchmark).

NETSCOPE_TINY_BLOCKS sets the count (default 20,000).
"""

import os

import torch
from torch import nn

BLOCKS = int(os.environ.get("NETSCOPE_TINY_BLOCKS", "20000"))


class TinyBlocks(nn.Module):
    def __init__(self, blocks: int = BLOCKS) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(4, 4) for _ in range(blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return TinyBlocks()


def example_input() -> torch.Tensor:
    return torch.randn(2, 4)
