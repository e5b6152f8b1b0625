"""A real CPU training loop for the `netscope run` overhead benchmark.

A small ResNet-style CNN on a synthetic 10-class dataset through a DataLoader, Adam, and
`loss.item()` logged every step (the usual loop). Prints `loop_s=<seconds>`: the time from the
first batch to the last optimizer step, measured by the script itself.
"""

import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


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
        self.stage2 = block(32, 64)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = self.pool(self.stage1(x))
        x = self.pool(self.stage2(x))
        return self.head(x.flatten(1))


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(steps * 32, 3, 32, 32), torch.randint(0, 10, (steps * 32,)))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    began = time.perf_counter()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"loop_s={time.perf_counter() - began:.4f} mean_loss={total / steps:.4f}")


if __name__ == "__main__":
    main()
