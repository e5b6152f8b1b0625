"""A training step compiled whole: ``torch.compile(train_step)`` over the forward and the loss
(``--backward``: and the backward too), the optimizer stepping outside it, 12 steps on the CPU;
prints each loss and, at the end, torch._dynamo's counters for a with/without compare.

``--breaks``: a print inside the compiled step (the script's own graph break).
``--backend``: aot_eager by default (no C++ compiler needed), inductor when one is there.
"""

import argparse
import json
import sys

import torch
from torch import nn
from torch._dynamo.utils import counters

parser = argparse.ArgumentParser()
parser.add_argument("--backward", action="store_true")
parser.add_argument("--breaks", action="store_true")
parser.add_argument("--backend", default="aot_eager")
args = parser.parse_args()


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(16, 32)
        self.down = nn.Linear(32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


torch.manual_seed(0)
model = TinyNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


@torch.compile(backend=args.backend)
def train_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    loss = nn.functional.mse_loss(model(x), y)
    if args.breaks:
        print("traced")  # a deliberate graph break
    if args.backward:
        loss.backward()
    return loss


for step in range(12):
    x, y = torch.randn(8, 16), torch.randn(8, 4)
    loss = train_step(x, y)
    if not args.backward:
        loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"step {step} loss {loss.item():.10f}")
kept = ("frames", "stats", "graph_break", "unimplemented", "resumes", "recompiles")
seen = {name: dict(counters[name]) for name in kept if name in counters}
print("DYNAMO " + json.dumps(seen, sort_keys=True), file=sys.stderr)
