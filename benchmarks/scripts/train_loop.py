"""A real CPU training loop for the `netscope run` overhead benchmark.

A small ResNet-style CNN on a synthetic 10-class dataset through a DataLoader, Adam, and
`loss.item()` logged every step (the usual loop). Prints `loop_s=<seconds>`: the time from the
first batch to the last optimizer step, measured by the script itself, and `loop_cpu_s`: the
process's CPU time over the loop (bench_run.py compares that one).
"""

import os
import sys
import time

import torch
from loop_kit import conv_block, train, wait_for_the_other
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_block(3, 16)
        self.stage1 = conv_block(16, 32)
        self.stage2 = conv_block(32, 64)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = self.pool(self.stage1(x))
        x = self.pool(self.stage2(x))
        return self.head(x.flatten(1))


def setup(steps: int) -> tuple[DataLoader, Net, torch.optim.Optimizer, nn.Module]:
    """The loop's data, model, optimizer and loss, seeded (bench_run_cost.py runs the same loop)."""
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(steps * 32, 3, 32, 32), torch.randint(0, 10, (steps * 32,)))
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return DataLoader(data, batch_size=32, shuffle=True), model, optimizer, nn.CrossEntropyLoss()


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    loop = setup(steps)
    wait_for_the_other(os.environ.get("NETSCOPE_BENCH_BARRIER"))
    began = time.process_time()
    marks, total = train(*loop)
    cpu = time.process_time() - began
    print(f"loop_s={marks[-1] - marks[0]:.4f} loop_cpu_s={cpu:.4f} mean_loss={total / steps:.4f}")


if __name__ == "__main__":
    main()
