"""Host-only reads next to a model: none of them would sync on CUDA."""

import torch
from torch import nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
counter = torch.zeros(())  # built without a device: a host tensor
for _ in range(10):
    x = torch.randn(3, 4)
    loss = model(x).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    counter += 1
    seen = int(counter.item())  # host: not a sync
    table = torch.arange(4).tolist()  # host: not a sync
    if loss > 100:  # device value: a sync
        print("diverged", seen, table)
