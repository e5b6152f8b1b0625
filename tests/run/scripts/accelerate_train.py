"""Hugging Face accelerate on two CPU processes (torchrun's environment, gloo): prepare() wraps
the model in DDP; gradient accumulation through accelerator.accumulate()."""

import argparse

import torch
from accelerate import Accelerator
from clean_exit import clean_exit
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from weights_digest import digest

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=6)
options = parser.parse_args()

accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
torch.manual_seed(0)
data = torch.Generator().manual_seed(0)
dataset = TensorDataset(torch.randn(512, 16, generator=data), torch.randn(512, 4, generator=data))
model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
model, optimizer, loader = accelerator.prepare(
    model, optimizer, DataLoader(dataset, batch_size=8, shuffle=True)
)
rank = accelerator.process_index
for index, (x, y) in enumerate(loader):
    if index == 2 * options.steps:
        break
    with accelerator.accumulate(model):
        loss = nn.functional.mse_loss(model(x), y)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    print(f"rank {rank} micro {index} loss {loss.item():.10f}", flush=True)
print(f"rank {rank} weights {digest(accelerator.unwrap_model(model))}", flush=True)
accelerator.free_memory()  # the prepared model and optimizer it holds
del model, optimizer, loss
clean_exit()
