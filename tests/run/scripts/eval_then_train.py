"""nanoGPT's loop shape: estimate_loss() under no_grad at iteration 0 (and every --eval-every),
then a training step with AdamW."""

import argparse

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--iters", type=int, default=12)
parser.add_argument("--eval-every", type=int, default=5)
parser.add_argument("--eval-batches", type=int, default=4)
options = parser.parse_args()

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, 64))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)


def batch(size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(size, 64), torch.randn(size, 64)


@torch.no_grad()
def estimate_loss() -> float:
    model.eval()
    losses = [nn.functional.mse_loss(model(x), y).item() for x, y in map(batch, [32] * 4)]
    model.train()
    return sum(losses) / len(losses)


for iteration in range(options.iters):
    if iteration % options.eval_every == 0:
        print(f"iter {iteration} val {estimate_loss():.4f}")
    x, y = batch()
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
