"""The Hugging Face Trainer as its quickstart writes it, on the CPU: a small regression model
that returns its loss, a dataset of dicts, TrainingArguments with max_steps and logging_steps."""

import argparse
import tempfile

import torch
from torch import nn
from transformers import Trainer, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=30)
options = parser.parse_args()


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 8))

    def forward(self, x, labels=None):
        out = self.net(x)
        loss = nn.functional.mse_loss(out, labels) if labels is not None else None
        return {"loss": loss, "logits": out}


class Rows(torch.utils.data.Dataset):
    def __init__(self) -> None:
        data = torch.Generator().manual_seed(0)
        self.x = torch.randn(1024, 64, generator=data)
        self.y = torch.randn(1024, 8, generator=data)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return {"x": self.x[index], "labels": self.y[index]}


torch.manual_seed(0)
with tempfile.TemporaryDirectory() as out:
    args = TrainingArguments(
        output_dir=out, max_steps=options.steps, per_device_train_batch_size=16,
        logging_steps=10, learning_rate=1e-2, report_to=[], save_strategy="no",
        use_cpu=True, disable_tqdm=True, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = Trainer(model=Regressor(), args=args, train_dataset=Rows())
    trainer.train()
print("done", flush=True)
