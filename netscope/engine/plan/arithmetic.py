"""DDP, ZeRO-1 and ZeRO-2 per GPU, from the step replayed on one device with exact sharding
arithmetic (their forward and backward are the single device's; only where state lives and the
buffers of the reduction differ), and FSDP's replayed step as one GPU's share."""

from __future__ import annotations

from netscope.engine.model import PerDevice
from netscope.engine.plan.replay import StepAsPlanned

DDP_BUCKET_BYTES = 25 * 2**20  # DistributedDataParallel's bucket_cap_mb default


def per_device(step: StepAsPlanned, shard: str, dp: int, train: bool) -> PerDevice:
    """One GPU's figures under ``shard`` over ``dp`` data-parallel ranks.

    - fsdp, none: the replayed step as it is (fsdp was replayed sharded).
    - ddp: every rank holds everything, plus DDP's gradient buckets (a flat copy of the
      gradients: ``gradient_as_bucket_view=False``, torch's default), allocated at wrap time.
    - zero1: the optimizer's state and its update's temporaries split over the ranks.
    - zero2: also the gradients: each rank keeps 1/dp of them after the reduce-scatter, one
      bucket being reduced at a time.
    """
    grads = step.grads_bytes if train else None
    optimizer = step.optimizer_bytes if train else None
    base = step.params_bytes + step.inputs_bytes
    if shard in ("fsdp", "none") or dp == 1 or not train:
        peak, at = step.peak_bytes, step.peak_where
        comm = step.comm_buffers_bytes
        return PerDevice(
            step.params_bytes, grads, optimizer, step.activations_bytes, comm, peak, at
        )
    state = step.optimizer_bytes
    update = step.optimizer_peak - state  # the update's temporaries above the state it creates
    after = step.after_backward
    forward_backward = step.forward_backward_peak
    comm = step.grads_bytes  # ddp's buckets
    if shard in ("zero1", "zero2"):
        state, update = state // dp, max(update, 0) // dp
    if shard == "zero2":
        bucket = min(DDP_BUCKET_BYTES, step.grads_bytes)
        kept = step.grads_bytes - step.grads_bytes // dp
        forward_backward, after, comm = forward_backward - kept, after - kept, bucket
        grads = step.grads_bytes // dp
    during = base + comm + forward_backward + state
    at_step = base + comm + after + state + update
    peak, at = (at_step, "optimizer.step()") if at_step > during else (during, step.peak_at)
    comm += step.comm_buffers_bytes  # --tp's collectives (in the replayed step, so in the peak)
    return PerDevice(step.params_bytes, grads, state, step.activations_bytes, comm, peak, at)
