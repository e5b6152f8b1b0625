"""A stack of identical blocks with a model file's ``loss(output, batch)`` and ``step(model,
batch)`` (labels in the batch): built seeded, so the CLI's import and the API test's build are
the same model. The identical blocks are FSDP's default units."""

import torch
from torch import nn
from torch.nn import functional


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(32)
        self.mlp = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(16, 32)
        self.blocks = nn.ModuleList(Block() for _ in range(4))
        self.head = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return Classifier()


def example_input() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {"x": torch.randn(8, 16, generator=generator), "y": torch.arange(8) % 5}


def loss(output: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return functional.cross_entropy(output, batch["y"])


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return loss(model(batch["x"]), batch)


def tp_plan(model: nn.Module) -> dict[str, str]:
    return {"blocks.*.mlp.0": "colwise", "blocks.*.mlp.2": "rowwise"}
