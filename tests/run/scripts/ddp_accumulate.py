"""DDP on gloo with gradient accumulation: no_sync() on the first micro-batch of each step."""

import argparse

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from weights_digest import digest

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=6)
parser.add_argument("--accumulate", type=int, default=2)
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 4)))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
data = torch.Generator().manual_seed(rank)
for step in range(options.steps):
    optimizer.zero_grad()
    for micro in range(options.accumulate):
        x, y = torch.randn(8, 16, generator=data), torch.randn(8, 4, generator=data)
        last = micro == options.accumulate - 1
        with model.no_sync() if not last else torch.enable_grad():
            loss = nn.functional.mse_loss(model(x), y) / options.accumulate
            loss.backward()
    optimizer.step()
    print(f"rank {rank} step {step} loss {loss.item():.10f}")
print(f"rank {rank} weights {digest(model.module)}")
del model, optimizer, loss
clean_exit()
