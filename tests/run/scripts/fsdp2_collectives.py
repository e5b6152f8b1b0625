"""FSDP2 on gloo (CPU): four fully_shard blocks and a head, AdamW. Every dimension is even, so
no shard is padded: a unit all-gathers exactly its parameters' bytes."""

import argparse

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch import nn
from torch.distributed.fsdp import fully_shard

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=12)
parser.add_argument("--width", type=int, default=64)
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.up = nn.Linear(width, 2 * width)
        self.down = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(x)))


class Net(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(width) for _ in range(4))
        self.head = nn.Linear(width, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x)


model = Net(options.width)
for block in model.blocks:
    fully_shard(block)
fully_shard(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
generator = torch.Generator().manual_seed(rank)
for _step in range(options.steps):
    x = torch.randn(16, options.width, generator=generator)
    y = torch.randn(16, 8, generator=generator)
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
checksum = sum(p.to_local().double().sum().item() for p in model.parameters())
print(f"rank {rank} done: loss {loss.item():.6f} checksum {checksum:.6f}")
del model, optimizer, loss
clean_exit()
