"""accelerate as its quickstart writes it, one CPU process: gradient accumulation over 2
micro-batches (accelerator.accumulate), the loss printed every 10 optimizer steps."""

import argparse

import torch
from accelerate import Accelerator
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=40)
options = parser.parse_args()

accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
torch.manual_seed(0)
data = torch.Generator().manual_seed(0)
dataset = TensorDataset(torch.randn(2048, 64, generator=data), torch.randn(2048, 8, generator=data))
model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 8))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
model, optimizer, loader = accelerator.prepare(
    model, optimizer, DataLoader(dataset, batch_size=16, shuffle=True)
)
for index, (x, y) in enumerate(loader):
    if index == 2 * options.steps:
        break
    with accelerator.accumulate(model):
        loss = nn.functional.mse_loss(model(x), y)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    if index % 20 == 19:  # every 10 optimizer steps
        print(f"step {index // 2 + 1} loss {loss.item():.10f}", flush=True)
print("done", flush=True)
