"""Lightning's quickstart autoencoder on one CPU process: ``training_step`` calls the encoder and
the decoder itself and never the LightningModule (``self(x)``)."""

import argparse

import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=30)
options = parser.parse_args()


class LitAutoEncoder(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64))

    def training_step(self, batch, index):
        (x,) = batch
        z = self.encoder(x)
        x_hat = self.decoder(z)
        loss = nn.functional.mse_loss(x_hat, x)
        if index % 10 == 0:
            print(f"step {index} loss {loss.item():.10f}", flush=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


pl.seed_everything(0, verbose=False)
data = torch.Generator().manual_seed(0)
dataset = TensorDataset(torch.randn(512, 64, generator=data))
trainer = pl.Trainer(
    accelerator="cpu", devices=1, max_steps=options.steps, logger=False,
    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
)  # fmt: skip
trainer.fit(LitAutoEncoder(), DataLoader(dataset, batch_size=16))
print("done", flush=True)
