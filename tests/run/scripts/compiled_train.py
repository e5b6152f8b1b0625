"""A torch.compile'd model (dynamo, eager backend: no C++ compiler needed) trained with SGD."""

import torch
from torch import nn
from weights_digest import digest

torch.manual_seed(0)
model = torch.compile(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2)), backend="eager")
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(6):
    loss = model(torch.randn(4, 8)).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"rank 0 step {step} loss {loss.item():.10f}")
print(f"rank 0 weights {digest(model)}")
