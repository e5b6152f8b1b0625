"""A regression loop that logs its loss and a metric each step: as tensors (`--keep tensor`,
which holds every step's graph) or as Python floats (`--keep item`); `--accumulate N` runs N
batches (forward and backward) per optimizer step."""

import argparse

import torch
from torch import nn
from torch.nn import functional as F


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256))

    def forward(self, x):
        return self.body(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", choices=["tensor", "item"], default="tensor")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--accumulate", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    x, y = torch.randn(1024, 256), torch.randn(1024, 256)
    history = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        for _ in range(args.accumulate):
            out = model(x)
            loss = F.mse_loss(out, y)
            loss.backward()
        optimizer.step()
        mae = F.l1_loss(out, y)  # a metric with its graph: it saves `out` and the difference
        if args.keep == "tensor":
            history.append((loss, mae))  # the bug: every step's tensors stay alive
        else:
            history.append((loss.item(), mae.item()))
    print("steps", len(history))


if __name__ == "__main__":
    main()
