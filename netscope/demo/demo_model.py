"""netscope's demo: nested custom blocks, a tied weight, a lazy layer and an unregistered tensor."""

import torch
from torch import nn
from torch.nn import functional as F


class Residual(nn.Module):
    """A custom block wrapping a small MLP with a skip connection."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))


class Encoder(nn.Module):
    """Custom blocks nested in a custom block; the temperature is a plain tensor attribute."""

    def __init__(self, dim: int, depth: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Residual(dim) for _ in range(depth))
        self.temperature = torch.tensor(0.5)  # unregistered: not saved, not moved by .to()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x / self.temperature


class DemoNet(nn.Module):
    """Token embedding, encoder, a lazy projection head and an output tied to the embedding."""

    def __init__(self, vocab: int = 64, dim: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = Encoder(dim, depth=2)
        self.head = nn.LazyLinear(dim)  # shape learned at the first forward
        self.out = nn.Linear(dim, vocab, bias=False)
        self.out.weight = self.embed.weight  # tied: one tensor, two names

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(F.gelu(self.head(self.encoder(self.embed(tokens)))))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return DemoNet()


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randint(0, 64, (2, 12))
