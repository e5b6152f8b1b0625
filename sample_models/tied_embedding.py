"""A small Hugging-Face-style language model whose lm_head.weight is the embedding weight."""

import torch
from torch import nn


class TinyBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.ff(self.ln(x))


class TinyLM(nn.Module):
    _tied_weights_keys = ["lm_head.weight"]  # the Hugging Face convention

    def __init__(self, vocab: int = 100, dim: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(TinyBlock(dim) for _ in range(layers))
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.embed_tokens.weight

    def forward(self, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.embed_tokens(input_ids)
        for block in self.blocks:
            x = block(x)
        return {"logits": self.lm_head(x)}


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return TinyLM()


def example_input() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {"input_ids": torch.randint(0, 100, (2, 8))}


def loss(output: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> torch.Tensor:
    logits = output["logits"][:, :-1]
    return nn.functional.cross_entropy(
        logits.reshape(-1, 100), batch["input_ids"][:, 1:].reshape(-1)
    )
