"""The per-GPU plan against real FSDP2 runs: each model of benchmarks/plan/models.py trained
with AdamW on two ranks (torchrun, gloo, CPU; one unit per repeated block + the root), per-rank
peak from torch's FSDPMemTracker (benchmarks/plan/fsdp_real.py), against netscope's
plan of the same step (``--fit 2x80GiB --shard fsdp``) in fp32, bf16-mixed, every unit
checkpointed, and both. Also the Llama-3-70B verdicts on meta.

Run: python benchmarks/bench_plan.py  (prints Markdown for docs/benchmarks.md)
     python benchmarks/bench_plan.py 70b  (the Llama-3-70B verdicts only: each `netscope report`
     timed, wall and CPU, with the load before and after)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "benchmarks" / "plan"
CASES = [("fp32", "none"), ("bf16-mixed", "none"), ("fp32", "all"), ("bf16-mixed", "all")]
MODELS = ("llama", "gpt2", "cnn")


def real_peak(model: str, precision: str, checkpoint: str, port: int = 29613) -> int:
    """Rank 0's peak bytes in a real two-rank FSDP2 step (the second of two)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "peak.json"
        command = [
            sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
            "--master-port", str(port), str(PLAN / "fsdp_real.py"), model, precision,
            checkpoint, str(out),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, cwd=PLAN, timeout=600)
        return int(json.loads(out.read_text())["peak_bytes"])


def planned(model: str, precision: str, checkpoint: str, devices: int = 2) -> dict:
    """netscope's plan of that step, in this process: the ``fit`` of a report."""
    from netscope.engine.compute.fit import fit_verdict
    from netscope.engine.load.target import load_target
    from netscope.engine.options import LoadOptions

    options = LoadOptions(
        target=str(PLAN / f"{model}_model.py"), train=True, optimizer="adamw",
        fit=f"{devices}x80GiB", shard="fsdp", precision=precision, checkpoint=checkpoint,
    )  # fmt: skip
    loaded = load_target(options)
    start = time.perf_counter()
    fit = fit_verdict(loaded, loaded.example_input)
    assert fit is not None and fit.per_device is not None
    return {"peak": fit.per_device.peak_bytes, "at": fit.per_device.peak_at,
            "seconds": time.perf_counter() - start}  # fmt: skip


def comparison_rows() -> list[list[str]]:
    rows = []
    for model in MODELS:
        for precision, checkpoint in CASES:
            real = real_peak(model, precision, checkpoint)
            plan = planned(model, precision, checkpoint)
            error = plan["peak"] / real - 1
            rows.append([
                model, precision, checkpoint, f"{real / 2**20:.2f}", f"{plan['peak'] / 2**20:.2f}",
                f"{error * 100:+.1f} %", "met" if abs(error) <= 0.10 else "NOT met", plan["at"],
            ])  # fmt: skip
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    return rows


SEVENTY_B = {
    "fsdp, bf16-mixed, --checkpoint none": ["--train", "--optimizer", "adamw", "--precision",
        "bf16-mixed", "--fit", "8xH100", "--shard", "fsdp", "--checkpoint", "none"],
    "fsdp, bf16-mixed, --checkpoint all": ["--train", "--optimizer", "adamw", "--precision",
        "bf16-mixed", "--fit", "8xH100", "--shard", "fsdp", "--checkpoint", "all"],
    "bf16 inference, --tp 8": ["--dtype", "bfloat16", "--fit", "8xH100", "--tp", "8"],
    "fsdp, bf16-mixed, --checkpoint auto, 32xH100": ["--train", "--optimizer", "adamw",
        "--precision", "bf16-mixed", "--fit", "32xH100", "--shard", "fsdp", "--checkpoint",
        "auto"],
}  # fmt: skip


def seventy_b_rows() -> list[list[str]]:
    """Each 70B verdict as a user runs it: the whole ``netscope report`` (its snapshot too)."""
    rows = []
    for name, args in SEVENTY_B.items():
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "r.json"
            command = [sys.executable, "-m", "netscope", "report", str(PLAN / "llama70b_model.py"),
                       "--device", "meta", *args, "-o", str(out)]  # fmt: skip
            load = os.getloadavg()[0]
            before, start = os.times(), time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, timeout=900)
            wall, after = time.perf_counter() - start, os.times()
            cpu = after.children_user + after.children_system
            cpu -= before.children_user + before.children_system
            fit = json.loads(out.read_text())["fit"]
        share = fit["per_device"]
        rows.append([
            name, "fits" if fit["fits"] else "does not fit",
            f"{share['peak_bytes'] / 2**30:.2f} GiB", str(fit["min_devices"]),
            f"{wall:.1f} s", f"{cpu:.1f} s", f"{load:.1f} -> {os.getloadavg()[0]:.1f}",
        ])  # fmt: skip
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if sys.argv[1:] == ["70b"]:
        rows = seventy_b_rows()
        print("| verdict | fits | per GPU | min_devices | wall | CPU | load |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    rows = comparison_rows()
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
          f"{os.getloadavg()[0]:.1f}: rank 0 of 2, the second AdamW step.\n")  # fmt: skip
    heads = ["model", "precision", "checkpoint", "real MiB", "plan MiB", "error", "10 %", "at"]
    print("| " + " | ".join(heads) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
