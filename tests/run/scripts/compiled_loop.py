"""A torch.compile'd model trained for 40 steps on the CPU; prints each loss and, at the end,
torch._dynamo's counters (frames, graphs, graph breaks, recompiles) for a with/without compare.

``--case plain``: nothing of its own breaks; ``breaks``: a print in the forward (a graph break);
``recompiles``: the batch size changes once and a Python float scale changes every 10 steps;
``limit``: recompile_limit 2 and a new Python float every step (the limit is hit: eager after).
``--in-place``: ``model.compile()`` instead of ``torch.compile(model)``.
``--compile-at N``: the loop runs eagerly until step N, then compiles (a loop already steady).
``--backend``: aot_eager by default (no C++ compiler needed), inductor when one is there.
"""

import argparse
import json
import sys

import torch
import torch._dynamo
from torch import nn
from torch._dynamo.utils import counters

parser = argparse.ArgumentParser()
parser.add_argument("--case", default="plain")
parser.add_argument("--backend", default="aot_eager")
parser.add_argument("--steps", type=int, default=40)
parser.add_argument("--in-place", action="store_true", help="model.compile() instead")
parser.add_argument("--compile-at", type=int, default=0, help="compile at this step")
args = parser.parse_args()
if args.case == "limit":
    torch._dynamo.config.recompile_limit = 2
    torch._dynamo.config.automatic_dynamic_shapes = False


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(16, 32)
        self.down = nn.Linear(32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        x = self.blocks(x)
        if args.case == "breaks":
            print("forward ran")  # a deliberate graph break
        return self.head(x) * scale


def compiled(model: nn.Module) -> nn.Module:
    if args.in_place:
        model.compile(backend=args.backend)
        return model
    return torch.compile(model, backend=args.backend)


torch.manual_seed(0)
model = Net()
model = compiled(model) if not args.compile_at else model
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(args.steps):
    if args.compile_at and step == args.compile_at:
        model = compiled(model)
    batch = 8 if args.case != "recompiles" or step < 20 else 12
    scale = 1.0
    if args.case == "recompiles":
        scale = 1.0 + step // 10
    elif args.case == "limit":
        scale = 1.0 + step * 0.5
    loss = model(torch.randn(batch, 16), scale).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"step {step} loss {loss.item():.10f}")
kept = ("frames", "stats", "graph_break", "unimplemented", "resumes", "recompiles")
seen = {name: dict(counters[name]) for name in kept if name in counters}
print("DYNAMO " + json.dumps(seen, sort_keys=True), file=sys.stderr)
