"""PyTorch Lightning, strategy="ddp" on two CPU processes; --devices 2 without torchrun makes
Lightning launch rank 1 itself (it re-runs this script)."""

import argparse
import os

import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from weights_digest import digest

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=6)
options = parser.parse_args()


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, index):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        print(f"rank {self.global_rank} step {index} loss {loss.item():.10f}", flush=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-2)


pl.seed_everything(0, verbose=False)
data = torch.Generator().manual_seed(0)
dataset = TensorDataset(torch.randn(256, 16, generator=data), torch.randn(256, 4, generator=data))
model = Regressor()
trainer = pl.Trainer(
    strategy="ddp", devices=2, accelerator="cpu", max_steps=options.steps, logger=False,
    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
)  # fmt: skip
trainer.fit(model, DataLoader(dataset, batch_size=8))
print(f"rank {trainer.global_rank} weights {digest(model)} pid {os.getpid()}", flush=True)
