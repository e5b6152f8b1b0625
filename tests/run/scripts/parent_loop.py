"""A plain loop that never calls its model: ``model.encoder(x)`` then ``model.decoder(z)``."""

import torch
from torch import nn


class AutoEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64))


torch.manual_seed(0)
model = AutoEncoder()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(20):
    x = torch.randn(16, 64)
    z = model.encoder(x)
    x_hat = model.decoder(z)
    loss = nn.functional.mse_loss(x_hat, x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 5 == 0:
        print(f"step {step} loss {loss.item():.10f}", flush=True)
print("done", flush=True)
