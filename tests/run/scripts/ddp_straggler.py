"""DDP on gloo (CPU): the rank named by --slow-rank waits --delay-ms longer for its data."""

import argparse
import time

import torch
import torch.distributed as dist
from clean_exit import clean_exit
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, Dataset

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=40)
parser.add_argument("--slow-rank", type=int, default=1)
parser.add_argument("--delay-ms", type=float, default=60.0)
parser.add_argument("--crash-rank", type=int, default=-1)
parser.add_argument("--crash-step", type=int, default=5)
# "backward": the crash comes from inside the backward, while the other rank waits in DDP's
# gradient all-reduce for this rank's share, which never comes
parser.add_argument("--crash-where", choices=["before", "backward"], default="before")
options = parser.parse_args()

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)


class Batches(Dataset):
    def __len__(self):
        return options.steps * 8

    def __getitem__(self, index):
        if rank == options.slow_rank and index % 8 == 0:
            time.sleep(options.delay_ms / 1000.0)  # this rank's data loading is slower
        return torch.randn(32), torch.randn(4)


def crash_in_backward(grad):
    raise RuntimeError(f"rank {rank} failed in the backward at step {options.crash_step}")


model = DDP(torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loader = DataLoader(Batches(), batch_size=8)
for step, (x, y) in enumerate(loader):
    if rank == options.crash_rank and step == options.crash_step:
        if options.crash_where == "before":
            raise RuntimeError(f"rank {rank} failed at step {step}")
        model.module[0].weight.register_hook(crash_in_backward)
    loss = torch.nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
total = torch.tensor([loss.item()])
dist.all_reduce(total)
del model, optimizer, loss
clean_exit()
print(f"rank {rank} done: {total.item():.4f}")
