"""``netscope check``'s memory gates: ``--max-peak-memory`` and ``--fit``, with the biggest
contributors named when the step does not fit."""

from __future__ import annotations

from netscope.engine.model import Snapshot

TOP_BLOCKS = 3


def size(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def contributors(snapshot: Snapshot) -> str:
    """``optimizer state 512 GiB, parameters 128 GiB...; blocks saving most: a (1 GiB)...``"""
    memory = snapshot.memory
    if memory is None:
        return ""
    parts = [
        ("parameters", memory.params_bytes), ("gradients", memory.grads_bytes),
        ("optimizer state", memory.optimizer_bytes),
        ("saved activations", memory.activations_bytes), ("buffers", memory.buffers_bytes),
    ]  # fmt: skip
    ranked = sorted(((n, b) for n, b in parts if b), key=lambda item: -item[1])
    text = ", ".join(f"{name} {size(b)}" for name, b in ranked)
    blocks = [
        b for b in snapshot.blocks if b.saved_bytes and b.path and not b.children
    ]  # leaves: the blocks that hold the saved tensors
    blocks.sort(key=lambda b: -(b.saved_bytes or 0))
    if blocks:
        text += "; blocks saving most: " + ", ".join(
            f"{b.path} ({size(b.saved_bytes)})" for b in blocks[:TOP_BLOCKS]
        )
    return text


def memory_totals(snapshot: Snapshot, max_peak: int | None) -> list[str]:
    """The lines check prints among its totals."""
    memory = snapshot.memory
    if memory is None:
        return ["step peak memory: n/a (no example forward ran)"] if max_peak is not None else []
    limit = "no limit" if max_peak is None else f"limit {size(max_peak)}"
    lines = [
        f"step peak memory: {size(memory.peak_bytes)}, {memory.how}, at {memory.peak_at} ({limit})"
    ]
    fit = snapshot.fit
    if fit is not None:
        verdict = "fits" if fit.fits else "does not fit"
        batch = "n/a" if fit.max_batch is None else str(fit.max_batch)
        lines.append(
            f"{fit.step} {verdict} {fit.device}: needs {size(fit.needed_bytes)} of "
            f"{size(fit.capacity_bytes)} usable, margin {size(fit.margin_bytes)}; largest "
            f"batch {batch}"
        )
    return lines


def memory_violations(snapshot: Snapshot, max_peak: int | None) -> list[str]:
    memory, fit = snapshot.memory, snapshot.fit
    found = []
    if max_peak is not None:
        if memory is None or memory.peak_bytes is None:
            found.append("step peak memory not available: --max-peak-memory cannot be checked")
        elif memory.peak_bytes > max_peak:
            found.append(
                f"step peak memory {size(memory.peak_bytes)} > --max-peak-memory "
                f"{size(max_peak)} (at {memory.peak_at}); biggest: {contributors(snapshot)}"
            )
    if fit is not None and not fit.fits:
        found.append(
            f"{fit.step} does not fit {fit.device}: needs {size(fit.needed_bytes)}, usable "
            f"{size(fit.capacity_bytes)}, short by {size(-fit.margin_bytes)}; biggest: "
            f"{contributors(snapshot)}"
        )
    return found
