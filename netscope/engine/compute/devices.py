"""Device facts in one place: memory capacities for ``--fit`` and dense peak FLOP/s for MFU.

Capacities are the total memory ``nvidia-smi`` reports (MiB) for each board; peaks are NVIDIA's
datasheet figures for dense math (no 2:4 sparsity), SXM boards unless named otherwise. Sources
are listed in docs/compute.md. A device not listed has no peak: MFU is then "not available"
unless ``--peak-tflops`` is given.
"""

from __future__ import annotations

import re

from netscope.engine.errors import NetscopeError

MIB = 2**20
GIB = 2**30
# torch's CUDA context (0.3-0.6 GiB on recent boards) plus headroom for the caching allocator
CONTEXT_BYTES = 1 * GIB

CAPACITY_MIB: dict[str, int] = {
    "H100": 81_559, "H100-PCIE": 81_559, "H200": 143_771, "A100-80GB": 81_920,
    "A100-40GB": 40_960, "L4": 23_034, "A10G": 23_028, "A10": 23_028, "L40S": 46_068,
    "RTX4090": 24_564, "RTX3090": 24_576, "V100-16GB": 16_384, "V100-32GB": 32_768,
    "T4": 15_360, "B200": 183_359,
}  # fmt: skip

# TFLOP/s, dense: {board: {dtype: peak}}; float32 is the non-tensor-core rate (TF32 is not
# torch's default for matmuls)
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100": {"bfloat16": 989.4, "float16": 989.4, "float32": 66.9},
    "H100-PCIE": {"bfloat16": 756.0, "float16": 756.0, "float32": 51.2},
    "H200": {"bfloat16": 989.4, "float16": 989.4, "float32": 66.9},
    "A100-80GB": {"bfloat16": 312.0, "float16": 312.0, "float32": 19.5},
    "A100-40GB": {"bfloat16": 312.0, "float16": 312.0, "float32": 19.5},
    "B200": {"bfloat16": 2250.0, "float16": 2250.0},
    "L4": {"bfloat16": 121.0, "float16": 121.0, "float32": 30.3},
    "RTX4090": {"bfloat16": 165.2, "float16": 165.2, "float32": 82.6},
}

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(GiB|GB|MiB|MB|TiB|TB|KiB|KB)\s*$", re.IGNORECASE)
_UNITS = {
    "kib": 2**10, "kb": 10**3, "mib": MIB, "mb": 10**6, "gib": GIB, "gb": 10**9,
    "tib": 2**40, "tb": 10**12,
}  # fmt: skip


def _board(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).upper().replace("NVIDIA", "").replace("GEFORCE", "")


def board_of(device_name: str) -> str | None:
    """The table's board for a CUDA device name ("NVIDIA H100 80GB HBM3" -> "H100")."""
    text = _board(device_name)
    if "H100" in text and "PCIE" in text:
        return "H100-PCIE"
    if "A100" in text:
        return "A100-40GB" if "40GB" in text else "A100-80GB"
    for board in sorted(PEAK_TFLOPS, key=len, reverse=True):
        if board.replace("-", "") in text:
            return board
    return None


def parse_size(text: str) -> int | None:
    """``24GiB``, ``80GB``, ``512MiB`` or a plain number of bytes; None when it is neither."""
    size = _SIZE.match(text)
    if size:
        return int(float(size.group(1)) * _UNITS[size.group(2).lower()])
    return int(text) if text.strip().isdigit() else None


def is_size(device: str) -> bool:
    """``24GiB``, ``80GB``: a size (a budget for the step's peak), not a board."""
    return _SIZE.match(device) is not None or device.strip().isdigit()


def capacity(device: str, asked: str | None = None) -> tuple[str, int]:
    """(label, total bytes) of ``--fit DEVICE``: a board of the table or a size (``24GiB``);
    ``asked``: the whole ``--fit`` argument (``3xA100``) the error names."""
    asked = device if asked is None else asked
    size = parse_size(device) if is_size(device) else None
    if size is not None:
        if size <= 0:
            raise NetscopeError(
                f"--fit {asked.strip()}: a size of 0 bytes holds nothing",
                hint="give the memory of one GPU, such as 24GiB or 80GB, or a board: H100",
            )
        return device.strip(), size
    board = _board(device)
    for name, mib in CAPACITY_MIB.items():
        if _board(name) == board:
            return name, mib * MIB
    sizes = [n for n in CAPACITY_MIB if board and _board(n).startswith(f"{board}-")]
    if sizes:  # A100, V100: a board sold with two memories
        spelled = [asked.strip().replace(device.strip(), n) for n in sizes]
        raise NetscopeError(
            f"--fit {asked.strip()}: {device.strip()} comes with more than one memory size",
            hint=f"name one: {' or '.join(spelled)}",
        )
    raise NetscopeError(
        f"--fit {asked.strip()}: not a device netscope knows or a size",
        hint=f"give one of {', '.join(CAPACITY_MIB)}, or a size such as 24GiB or 80GB",
    )


def peak_flops(device_name: str, dtype: str) -> float | None:
    """Dense peak FLOP/s of a CUDA device for ``dtype``; None when not in the table."""
    board = board_of(device_name)
    figure = PEAK_TFLOPS.get(board or "", {}).get(dtype)
    return None if figure is None else figure * 1e12


def usable_capacity(
    device: str | None, asked: str | None = None, budget: int | None = None
) -> tuple[str, int, int]:
    """(label, usable bytes, CUDA-context allowance) of one GPU: a board less its context; a
    size (``--fit 24GiB``) or ``--memory-budget`` (``device`` None) as given."""
    if device is None:
        assert budget is not None
        return "budget", budget, 0
    label, total = capacity(device, asked)
    if is_size(device):
        return label, total, 0
    return label, total - CONTEXT_BYTES, CONTEXT_BYTES


def size_note(label: str) -> str:
    """What a size given to --fit means, said once for one GPU and for a plan."""
    return f"{label} is a size: a budget for the step's peak, no CUDA-context allowance"
