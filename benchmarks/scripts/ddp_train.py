"""A real 2-rank DDP training loop (gloo, CPU) for the per-rank `netscope run` overhead benchmark.

A small CNN on a synthetic 10-class dataset, split between the ranks by a DistributedSampler,
through a DataLoader; DDP, Adam, `loss.item()` every step. Every rank prints
`rank=R loop_s=<seconds> step_ms=<median>`: the time from the first batch to the last optimizer
step, and its own median step time (from one batch's arrival to the next), measured by the script.
"""

import sys

import torch
import torch.distributed as dist
from loop_kit import conv_block, rank_line, train
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_block(3, 16)
        self.stage1 = conv_block(16, 32)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = self.pool(self.stage1(x))
        return self.head(x.flatten(1))


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    batch = 32
    data = TensorDataset(
        torch.randn(steps * batch * world, 3, 32, 32),
        torch.randint(0, 10, (steps * batch * world,)),
    )
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=batch, sampler=sampler)
    model = DDP(Net())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    marks, total = train(loader, model, optimizer, nn.CrossEntropyLoss())
    dist.barrier()
    dist.destroy_process_group()
    print(rank_line(rank, marks, total, steps))


if __name__ == "__main__":
    main()
