"""The models the plan is checked on against real FSDP2 runs: small transformers configs and a
CNN, each with its batch and the loss its training step takes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def llama() -> nn.Module:
    import transformers as T

    config = T.LlamaConfig(
        num_hidden_layers=4, hidden_size=256, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=688, vocab_size=1000,
    )  # fmt: skip
    return T.LlamaForCausalLM(config)


def gpt2() -> nn.Module:
    import transformers as T

    config = T.GPT2Config(n_layer=4, n_embd=256, n_head=4, vocab_size=1000, n_positions=256)
    return T.GPT2LMHeadModel(config)


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.blocks = nn.Sequential(*[Residual(32) for _ in range(4)])
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


class Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(torch.relu(self.conv1(x)))


def tokens() -> dict[str, torch.Tensor]:
    ids = torch.randint(0, 1000, (4, 128), generator=torch.Generator().manual_seed(0))
    return {"input_ids": ids, "labels": ids}


def images() -> torch.Tensor:
    return torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))


MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[[], Any]]] = {
    "llama": (llama, tokens),
    "gpt2": (gpt2, tokens),
    "cnn": (CNN, images),
}


def loss_of(model: nn.Module, batch: Any) -> torch.Tensor:
    """The training loss: transformers' own (labels given), the CNN's output mean."""
    if isinstance(batch, dict):
        return model(**batch).loss
    return model(batch).float().mean()


def repeated_blocks(model: nn.Module) -> list[nn.Module]:
    """Children of a ModuleList/Sequential whose class repeats there (the transformer layers)."""
    found = []
    for module in model.modules():
        if isinstance(module, (nn.ModuleList, nn.Sequential)):
            kinds = [type(child) for child in module]
            found += [c for c in module if kinds.count(type(c)) > 1]
    return found


def netscope_file(name: str) -> tuple[Callable[[], nn.Module], Callable[[], Any], Callable]:
    """``build_model``, ``example_input`` and ``loss`` of a netscope model file for ``name``."""
    build, batch = MODELS[name]

    def loss(output: Any, batch: Any) -> torch.Tensor:
        return output.loss if isinstance(batch, dict) else output.float().mean()

    return build, batch, loss
