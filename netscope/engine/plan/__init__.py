"""The per-GPU memory plan of a step beyond one GPU: sharding (FSDP, ZeRO, DDP), tensor
parallelism, mixed precision and activation checkpointing, replayed with torch's own code on a
fake process group (docs/compute.md, "Plan a run")."""
