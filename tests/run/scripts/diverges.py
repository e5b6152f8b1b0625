"""A loop whose learning rate jumps at step 10: its weights are NaN from about step 12 on."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
for step in range(40):
    if step == 10:
        for group in optimizer.param_groups:
            group["lr"] = 1e30  # a bad schedule: training diverges
    x = torch.randn(32, 16)
    loss = F.mse_loss(model(x), x.sum(-1, keepdim=True))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("nan weights:", any(bool(p.isnan().any()) for p in model.parameters()))
