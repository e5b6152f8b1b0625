"""A real 2-rank FSDP2 training loop (gloo, CPU) for the per-rank `netscope run` overhead benchmark.

Four `fully_shard` MLP blocks and a head, AdamW, `loss.item()` every step. Every rank prints
`rank=R loop_s=<seconds> step_ms=<median>` as benchmarks/scripts/ddp_train.py does.
"""

import itertools
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    width = 256
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(0)
    blocks = [
        nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        for _ in range(4)
    ]
    model = nn.Sequential(*blocks, nn.Linear(width, 10))
    for block in blocks:
        fully_shard(block)
    fully_shard(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(rank)
    began = time.perf_counter()
    marks = [began]
    total = 0.0
    for _ in range(steps):
        x = torch.randn(64, width, generator=generator)
        y = torch.randint(0, 10, (64,), generator=generator)
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
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
