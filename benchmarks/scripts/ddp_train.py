"""A real 2-rank DDP training loop (gloo, CPU) for the per-rank `netscope run` overhead benchmark.

A small CNN on a synthetic 10-class dataset, split between the ranks by a DistributedSampler,
through a DataLoader; DDP, Adam, `loss.item()` every step. Every rank prints
`rank=R loop_s=<seconds> step_ms=<median>`: the time from the first batch to the last optimizer
step, and its own median step time (from one batch's arrival to the next), measured by the script.
"""

import itertools
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def block(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
    )  # fmt: skip


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = block(3, 16)
        self.stage1 = block(16, 32)
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
    criterion = nn.CrossEntropyLoss()
    began = time.perf_counter()
    marks = [began]
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        marks.append(time.perf_counter())
    loop_s = marks[-1] - began
    gaps = sorted(b - a for a, b in itertools.pairwise(marks))
    step_ms = 1000.0 * gaps[len(gaps) // 2]
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank={rank} loop_s={loop_s:.4f} step_ms={step_ms:.2f} mean_loss={total / steps:.4f}")


if __name__ == "__main__":
    main()
