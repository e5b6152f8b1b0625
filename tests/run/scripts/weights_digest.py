"""A digest of a model's weights, for the bit-for-bit tests: each rank hashes its own tensors
(a DTensor's local shard), so taking it issues no collective."""

import hashlib

import torch


def digest(module: torch.nn.Module) -> str:
    sha = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        local = tensor.to_local() if hasattr(tensor, "to_local") else tensor
        sha.update(name.encode())
        sha.update(local.detach().contiguous().cpu().view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()[:16]
