"""A real 2-rank FSDP2 training loop (gloo, CPU) for the per-rank `netscope run` overhead benchmark.

Four `fully_shard` MLP blocks and a head, AdamW, `loss.item()` every step. Every rank prints
`rank=R loop_s=<seconds> step_ms=<median>` as benchmarks/scripts/ddp_train.py does.
"""

import sys

import torch
import torch.distributed as dist
from loop_kit import rank_line, train
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
    batches = (
        (
            torch.randn(64, width, generator=generator),
            torch.randint(0, 10, (64,), generator=generator),
        )
        for _ in range(steps)
    )
    marks, total = train(batches, model, optimizer, nn.functional.cross_entropy)
    dist.barrier()
    dist.destroy_process_group()
    print(rank_line(rank, marks, total, steps))


if __name__ == "__main__":
    main()
