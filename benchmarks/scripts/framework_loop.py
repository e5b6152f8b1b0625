"""One training loop written the way each framework's quickstart writes it, for the
`netscope run` overhead benchmark: `python framework_loop.py {lightning,accelerate,trainer} STEPS`.

The same MLP (256 -> 512 -> 512 -> 256, batch 64, SGD) in every framework; the loss is read
every 10 steps. Prints `loop_s=<seconds>`: the time from the start of the first step to the end
of the last, measured by the script itself, so interpreter start-up, imports and each
framework's set-up are counted on neither side; and `loop_cpu_s=<seconds>`: the process's CPU
time (every thread's) over the same span, which other processes on a shared machine disturb far
less than the wall time.
"""

import sys
import tempfile
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

BATCH = 64


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 256)
    )


def tensors(steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.Generator().manual_seed(0)
    count = steps * BATCH
    return torch.randn(count, 256, generator=data), torch.randn(count, 256, generator=data)


class Timer:
    """First step's start to last step's end (the frameworks call these from their loops)."""

    began: float | None = None
    ended = 0.0
    cpu_began = 0.0
    cpu_ended = 0.0

    @classmethod
    def step_begins(cls) -> None:
        if cls.began is None:
            cls.began = time.perf_counter()
            cls.cpu_began = time.process_time()

    @classmethod
    def step_ends(cls) -> None:
        cls.ended = time.perf_counter()
        cls.cpu_ended = time.process_time()


def run_lightning(steps: int) -> None:
    import pytorch_lightning as pl

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp()

        def training_step(self, batch, index):
            x, y = batch
            loss = nn.functional.mse_loss(self.net(x), y)
            if index % 10 == 0:
                print(f"step {index} loss {loss.item():.6f}")
            return loss

        def on_train_batch_start(self, batch, index):
            Timer.step_begins()

        def on_train_batch_end(self, outputs, batch, index):
            Timer.step_ends()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=1e-3)

    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(Module(), DataLoader(TensorDataset(*tensors(steps)), batch_size=BATCH))


def run_accelerate(steps: int) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(*tensors(2 * steps)), batch_size=BATCH)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for index, (x, y) in enumerate(loader):
        Timer.step_begins()
        with accelerator.accumulate(model):
            loss = nn.functional.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
        if index % 20 == 19:
            print(f"step {index // 2 + 1} loss {loss.item():.6f}")
        Timer.step_ends()


class Rows(Dataset):
    def __init__(self, steps: int) -> None:
        self.x, self.y = tensors(steps)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[index], "labels": self.y[index]}


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x, labels=None):
        out = self.net(x)
        return {"loss": nn.functional.mse_loss(out, labels), "logits": out}


def run_trainer(steps: int) -> None:
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Timing(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            Timer.step_begins()

        def on_step_end(self, args, state, control, **kwargs):
            Timer.step_ends()

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, max_steps=steps, per_device_train_batch_size=BATCH, logging_steps=10,
            learning_rate=1e-3, optim="sgd", report_to=[], save_strategy="no", use_cpu=True,
            disable_tqdm=True, dataloader_num_workers=0,
        )  # fmt: skip
        trainer = Trainer(model=Regressor(), args=args, train_dataset=Rows(steps),
                          callbacks=[Timing()])  # fmt: skip
        trainer.train()


def main() -> None:
    framework, steps = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    {"lightning": run_lightning, "accelerate": run_accelerate, "trainer": run_trainer}[framework](
        steps
    )
    assert Timer.began is not None
    print(f"loop_s={Timer.ended - Timer.began:.4f}", flush=True)
    print(f"loop_cpu_s={Timer.cpu_ended - Timer.cpu_began:.4f}", flush=True)


if __name__ == "__main__":
    main()
