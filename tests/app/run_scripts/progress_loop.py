"""A short loop that draws a progress bar with carriage returns (as tqdm does, on stderr) and
reads its loss through an installed library's function (``steplib``: a sync in site-packages)."""

import sys

import steplib
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(8, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
steps = 30
for step in range(steps):
    loss = model(torch.randn(4, 8)).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    steplib.log_loss(loss)
    sys.stderr.write(f"\rtraining {step + 1}/{steps} |{'#' * (step + 1):<30}|")
    sys.stderr.flush()
sys.stderr.write("\n")
print("done")
