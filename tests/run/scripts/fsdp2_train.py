"""FSDP2 on gloo (CPU): four fully_shard blocks and a head, AdamW."""

import argparse

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch import nn
from torch.distributed.fsdp import fully_shard
from weights_digest import digest

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=4)
parser.add_argument("--width", type=int, default=32)
parser.add_argument("--batch", type=int, default=8)
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
width = options.width


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU()) for _ in range(4)
        )
        self.head = nn.Linear(width, 4)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


model = Net()
for block in model.blocks:
    fully_shard(block)
fully_shard(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
data = torch.Generator().manual_seed(rank)
for step in range(options.steps):
    x, y = (
        torch.randn(options.batch, width, generator=data),
        torch.randn(options.batch, 4, generator=data),
    )
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"rank {rank} step {step} loss {loss.item():.10f}")
print(f"rank {rank} weights {digest(model)}")
del model, optimizer, loss
clean_exit()
