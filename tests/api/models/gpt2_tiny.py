"""transformers' GPT-2 from a small config (no download): its lm_head is tied to wte."""

import torch
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel


def build_model() -> nn.Module:
    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=101, n_positions=32)
    return GPT2LMHeadModel(config)


def example_input() -> dict[str, torch.Tensor]:
    ids = torch.randint(0, 101, (2, 12), generator=torch.Generator().manual_seed(1))
    return {"input_ids": ids, "labels": ids}
