"""DTensor tensor parallelism on gloo (CPU): ColwiseParallel up, RowwiseParallel down."""

import argparse

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    RowwiseParallel,
    parallelize_module,
)
from weights_digest import digest

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=4)
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
mesh = init_device_mesh("cpu", (dist.get_world_size(),))
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(16, 64)
        self.down = nn.Linear(64, 16)

    def forward(self, x):
        return self.down(torch.relu(self.up(x)))


model = parallelize_module(MLP(), mesh, {"up": ColwiseParallel(), "down": RowwiseParallel()})
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, foreach=False)
data = torch.Generator().manual_seed(0)  # every rank of a TP group sees the same batch
for step in range(options.steps):
    x, y = torch.randn(8, 16, generator=data), torch.randn(8, 16, generator=data)
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"rank {rank} step {step} loss {loss.item():.10f}")
print(f"rank {rank} weights {digest(model)}")
del model, optimizer, loss, x, y
clean_exit()
