"""The end of a test script that ran collectives: torch 2.13 + gloo aborts about 1 process in 5
at interpreter exit ("terminate called without an active exception") when collective work
still holds tensors then, with or without netscope. The script drops its model and optimizer
first; this frees what they held while Python is alive and ends the process group."""

import gc

import torch.distributed as dist


def clean_exit() -> None:
    gc.collect()
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
