"""PyTorch Lightning as its quickstart writes it, on one CPU process: Lightning runs
training_step (the forward and the backward) inside optimizer.step(closure)."""

import argparse

import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=40)
options = parser.parse_args()


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 8))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, index):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        if index % 10 == 0:
            print(f"step {index} loss {loss.item():.10f}", flush=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-2)


pl.seed_everything(0, verbose=False)
data = torch.Generator().manual_seed(0)
dataset = TensorDataset(torch.randn(512, 64, generator=data), torch.randn(512, 8, generator=data))
trainer = pl.Trainer(
    accelerator="cpu", devices=1, max_steps=options.steps, logger=False,
    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
)  # fmt: skip
trainer.fit(Regressor(), DataLoader(dataset, batch_size=16))
print("done", flush=True)
