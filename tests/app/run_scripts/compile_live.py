"""A compiled model with a graph break (a print in its forward), called in a loop until the file
named by argv[1] exists (at most 300 s): the run app's Compile tab must show the break meanwhile."""

import sys
import time
from pathlib import Path

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer(x)
        print("forward ran")  # a deliberate graph break
        return x.relu()


flag = Path(sys.argv[1])
model = torch.compile(Net(), backend="eager")
began = time.monotonic()
with torch.no_grad():
    while not flag.exists() and time.monotonic() - began < 300:
        model(torch.randn(2, 4))
        time.sleep(0.05)
print("done", flush=True)
