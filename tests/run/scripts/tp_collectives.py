"""Tensor parallel on gloo (CPU): an MLP with ColwiseParallel up and RowwiseParallel down
(one all-reduce of the output forward, one of the input's gradient backward), SGD."""

import argparse

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=12)
parser.add_argument("--width", type=int, default=64)
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
mesh = init_device_mesh("cpu", (dist.get_world_size(),), mesh_dim_names=("tp",))
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.up = nn.Linear(width, 4 * width)
        self.down = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


model = parallelize_module(
    MLP(options.width), mesh, {"up": ColwiseParallel(), "down": RowwiseParallel()}
)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
generator = torch.Generator().manual_seed(0)  # every rank the same batch (tensor parallel)
for _step in range(options.steps):
    x = torch.randn(16, options.width, generator=generator, requires_grad=True)
    loss = model(x).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
checksum = sum(p.to_local().double().sum().item() for p in model.parameters())
print(f"rank {rank} done: loss {loss.item():.6f} checksum {checksum:.6f}")
del model, optimizer, loss, x
clean_exit()
