"""The snapshot walks a model's modules once before its forward (build.py): the parameters, the
buffers and each module's first path taken from that walk are torch's own, in torch's order, on
models that reuse a module under two parents and tie weights (the cases a walk gets wrong)."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

from netscope.engine.snapshot.build import first_paths, unique_buffers, unique_parameters

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Reused(nn.Module):
    """One block under two parents, a BatchNorm's buffers, a weight tied across two Linears."""

    def __init__(self) -> None:
        super().__init__()
        shared = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        self.left = nn.Sequential(shared, nn.ReLU())
        self.right = nn.ModuleList([nn.Linear(4, 4), shared])
        self.head = nn.Linear(4, 4, bias=False)
        self.tail = nn.Linear(4, 4, bias=False)
        self.tail.weight = self.head.weight


def gpt2() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=64, n_positions=16)
    return transformers.GPT2LMHeadModel(config)  # lm_head tied to the token embedding


@pytest.mark.parametrize(
    ("build", "reuses"), [(Reused, True), (gpt2, False)], ids=["reused", "gpt2"]
)
def test_one_walk_gives_torch_own_answers(build, reuses: bool) -> None:
    torch.manual_seed(0)
    model = build()
    walked = list(model.named_modules(remove_duplicate=False))
    assert first_paths(walked) == list(model.named_modules())
    modules = [module for _, module in model.named_modules()]
    assert [id(p) for p in unique_parameters(modules)] == [id(p) for p in model.parameters()]
    assert [id(b) for b in unique_buffers(modules)] == [id(b) for b in model.buffers()]
    assert (len(walked) > len(modules)) is reuses  # a module reached twice was dropped once
