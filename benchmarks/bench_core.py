"""Core figures: snapshot speed vs torchinfo, a 70B model on meta, a 2 GB checkpoint's metadata.

Run: python benchmarks/bench_core.py  (prints Markdown; run_all.py collects it into the docs)
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from harness import ROOT, markdown_table, median_run, python, run_process, verdict

CpuRun = tuple[float, float, int]  # wall seconds, CPU seconds (user + sys), peak RSS bytes


def cpu_run(argv: list[str]) -> CpuRun:
    """``run_process`` with the CPU time beside the wall time: user + sys of the process and
    of every child it waited for (netscope's worker), from wait4. On a shared machine the
    CPU ratio moves less with the other jobs than the wall ratio (but a second thread's spin
    under contention still counts)."""
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(argv)} failed:\n{err}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def _load() -> str:
    """The 1-minute load average now (timings mean little without it)."""
    return f"{os.getloadavg()[0]:.1f}"


def _pairs(ours: list[CpuRun], theirs: list[CpuRun]) -> tuple[list[float], list[float]]:
    """Per interleaved pair: the wall ratios and the CPU ratios, each sorted."""
    wall = sorted(a[0] / b[0] for a, b in zip(ours, theirs, strict=True))
    cpu = sorted(a[1] / b[1] for a, b in zip(ours, theirs, strict=True))
    return wall, cpu


MIB = 1024 * 1024
RESNET = str(ROOT / "sample_models" / "resnet152.py")
BIG = str(ROOT / "sample_models" / "big_transformer.py")


def resnet_vs_torchinfo(out: Path, backward: bool = True, repeats: int = 3) -> list[str]:
    """Whole processes, interleaved (a drift in machine load hits both alike); median ratio."""
    flags = [] if backward else ["--no-backward"]
    argv = python("-m", "netscope", "report", RESNET, *flags, "-o", str(out / "r.json"))
    baseline_argv = python(str(ROOT / "benchmarks" / "torchinfo_baseline.py"), RESNET)
    ours: list[CpuRun] = []
    theirs: list[CpuRun] = []
    load = _load()
    for _ in range(repeats):
        ours.append(cpu_run(argv))
        theirs.append(cpu_run(baseline_argv))
    ratios, cpu = _pairs(ours, theirs)
    ratio = ratios[len(ratios) // 2]
    target = 1.0 if backward else 0.9
    what = "" if backward else " --no-backward"
    wall_ours = sorted(r[0] for r in ours)[repeats // 2]
    wall_theirs = sorted(r[0] for r in theirs)[repeats // 2]
    return [
        f"ResNet-152 `netscope report{what}` (whole process) vs torchinfo.summary's whole process",
        f"{wall_ours:.2f} s vs {wall_theirs:.2f} s = {ratio:.2f} x (spread {ratios[0]:.2f}-"
        f"{ratios[-1]:.2f} x, {repeats} pairs); CPU (user + sys) {cpu[len(cpu) // 2]:.2f} x "
        f"(spread {cpu[0]:.2f}-{cpu[-1]:.2f} x); load {load}-{_load()}",
        f"<= {target} x",
        verdict(ratio <= target),
    ]


PHASE_PROBE = """
import statistics, sys, time
import torchinfo
from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions
from netscope.engine.api import snapshot_loaded
from netscope.report.write import write_report
loaded = load_target(LoadOptions(target=sys.argv[1], backward=sys.argv[3] == "backward"))
ours, theirs = [], []
for _ in range(3):  # interleaved: a drift in machine load hits both alike
    t0 = time.perf_counter()
    write_report(sys.argv[2], snapshot_loaded(loaded), None, "json")
    t1 = time.perf_counter()
    torchinfo.summary(loaded.model, input_data=loaded.example_input.args[0], verbose=0, depth=20)
    t2 = time.perf_counter()
    ours.append(t1 - t0)
    theirs.append(t2 - t1)
ratios = sorted(a / b for a, b in zip(ours, theirs))
print(statistics.median(ours), statistics.median(theirs), ratios[0], ratios[-1])
"""


def _probe(script: str, report: Path, backward: bool) -> list[float]:
    """Run a timing probe on ResNet-152 in a fresh process; the numbers it printed."""
    import subprocess

    mode = "backward" if backward else "no-backward"
    result = subprocess.run(
        python("-c", script, RESNET, str(report), mode), capture_output=True, text=True, check=True
    )
    return [float(v) for v in result.stdout.split()]


def resnet_phase_vs_torchinfo(out: Path, backward: bool) -> list[str]:
    """The same comparison once the model is built: only what each tool adds to the process."""
    ours, theirs, low, high = _probe(PHASE_PROBE, out / "phase.json", backward)
    ratio = ours / theirs
    what = "with the gradient pass" if backward else "with --no-backward"
    target = 1.5 if backward else 0.7
    return [
        f"ResNet-152, model already built: snapshot + JSON ({what}) vs torchinfo.summary",
        f"{ours:.2f} s vs {theirs:.2f} s = {ratio:.2f} x (pairs {low:.2f}-{high:.2f} x)",
        f"<= {target} x",
        verdict(ratio <= target),
    ]


FLOOR_PROBE = """
import statistics, sys, time
import torch, torchinfo
from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions
from netscope.engine.api import snapshot_loaded
from netscope.report.write import write_report
loaded = load_target(LoadOptions(target=sys.argv[1], backward=sys.argv[3] == "backward"))
model, batch = loaded.model, loaded.example_input.args[0]
model.eval()  # as netscope's snapshot runs it (and restores): BatchNorm in eval mode
def plain():  # what any tool must do: the forward (and the backward, for gradients)
    if sys.argv[3] == "backward":
        model(batch).float().mean().backward()
        model.zero_grad(set_to_none=True)
    else:
        with torch.no_grad():
            model(batch)
steps = {
    "netscope": lambda: write_report(sys.argv[2], snapshot_loaded(loaded), None, "json"),
    "plain": plain,
    "torchinfo": lambda: torchinfo.summary(model, input_data=batch, verbose=0, depth=20),
}
times = {name: [] for name in steps}
for _ in range(5):  # interleaved: a drift in machine load hits all three alike
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        times[name].append(time.perf_counter() - began)
over = sorted(a / b for a, b in zip(times["netscope"], times["plain"]))
print(*(statistics.median(times[name]) for name in steps), over[0], over[-1])
"""


def resnet_phase_floor(out: Path, backward: bool) -> list[str]:
    """The floor under the phase targets: a plain forward (and backward) of the same model.

    netscope's phase runs the model's own forward (and backward, for gradients); when that alone
    exceeds the target ratio to torchinfo, the target cannot be met while statistics come from a
    real forward, and what netscope can cut is its overhead above the plain run: this row."""
    ours, plain, theirs, low, high = _probe(FLOOR_PROBE, out / "floor.json", backward)
    what = "forward + backward" if backward else "forward (no grad)"
    target = 1.5 if backward else 0.7
    return [
        f"ResNet-152, model built: the plain {what} alone vs torchinfo.summary (the floor); "
        f"netscope's phase over that plain run",
        f"plain {plain:.2f} s = {plain / theirs:.2f} x torchinfo's {theirs:.2f} s; netscope "
        f"{ours:.2f} s = {ours / plain:.2f} x the plain run (pairs {low:.2f}-{high:.2f} x)",
        f"phase target <= {target} x torchinfo",
        "unreachable: the plain run alone is above it" if plain / theirs > target else "reachable",
    ]


def big_on_meta(out: Path, repeats: int = 3) -> list[str]:
    run = median_run(
        python("-m", "netscope", "report", BIG, "--device", "meta", "-o", str(out / "b.json")),
        repeats,
    )
    import json

    total = json.loads((out / "b.json").read_text())["model"]["total_params"]
    ok = run.seconds < 5 and run.peak_rss_bytes < 1024 * MIB
    return [
        f"{total / 1e9:.1f}B-parameter transformer on meta: whole `netscope report`",
        f"{run.seconds:.2f} s, peak RSS {run.peak_rss_bytes / MIB:.0f} MiB",
        "< 5 s, < 1 GiB",
        verdict(ok),
    ]


CHECKPOINT_PROBE = """
import os, sys, time, psutil
import torch  # imported before the baseline: only the checkpoint's cost is measured
from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions
rss0 = psutil.Process().memory_info().rss
t0 = time.perf_counter()
snap = take_snapshot(LoadOptions(target=sys.argv[1]))
seconds = time.perf_counter() - t0
growth = psutil.Process().memory_info().rss - rss0
print(seconds, growth, len(snap.parameters))
"""


def checkpoint_metadata(out: Path) -> list[str]:
    import subprocess

    import torch

    path = out / "big_state_dict.pt"
    state = {f"layers.{i}.weight": torch.randn(4096, 4096) for i in range(32)}  # 32 x 64 MiB
    torch.save(state, path)
    del state
    size = os.path.getsize(path)
    run_process(python("-c", "import torch"))  # warm the page cache for torch itself
    result = subprocess.run(
        python("-c", CHECKPOINT_PROBE, str(path)), capture_output=True, text=True, check=True
    )
    seconds, growth, _count = result.stdout.split()
    seconds, growth = float(seconds), int(growth)
    ok = seconds < 1 and growth < 100 * MIB
    return [
        f"Metadata of a {size / 1024**3:.1f} GiB state_dict checkpoint (.pt)",
        f"{seconds:.2f} s, RSS growth {growth / MIB:.0f} MiB",
        "< 1 s, < 100 MiB",
        verdict(ok),
    ]


def sharded_70b(out: Path, with_config: bool, repeats: int = 3) -> list[str]:
    """Llama-3-70B's 28 shards as sparse files with real headers: `netscope report FOLDER`."""
    from sparse_checkpoint import write_llama3_70b

    folder = out / ("llama70b-config" if with_config else "llama70b")
    size, _params = write_llama3_70b(folder, with_config=with_config)
    run = median_run(
        python("-m", "netscope", "report", str(folder), "-o", str(out / "s.json")), repeats
    )
    ok = run.seconds < 5 and run.peak_rss_bytes < 1024 * MIB
    what = (
        "with config.json: LlamaForCausalLM built on meta by transformers, weights diffed"
        if with_config
        else "no config.json: the tree of keys"
    )
    return [
        f"Sharded {size / 1e9:.0f} GB Llama-3-70B folder (28 sparse shards), {what}",
        f"{run.seconds:.2f} s, peak RSS {run.peak_rss_bytes / MIB:.0f} MiB",
        "< 5 s, < 1 GiB",
        verdict(ok),
    ]


PLAIN_STEP = """
import runpy, sys
ns = runpy.run_path(sys.argv[1])
model = ns["build_model"]()
model(ns["example_input"]()).sum().backward()
"""


def tiny_blocks_report(out: Path, fmt: str = "json", repeats: int = 3) -> list[str]:
    """20,000 Linear(4, 4) in a ModuleList: whole `netscope report` vs the plain build + forward
    + backward, interleaved (a drift in machine load hits both alike); median ratio and spread."""
    model = str(ROOT / "benchmarks" / "tiny_blocks.py")
    report = out / f"tiny.{fmt}"
    ours: list[CpuRun] = []
    plains: list[CpuRun] = []
    load = _load()
    for _ in range(repeats):
        ours.append(cpu_run(python("-m", "netscope", "report", model, "-o", str(report))))
        plains.append(cpu_run(python("-c", PLAIN_STEP, model)))
    ratios, cpu = _pairs(ours, plains)
    ratio = ratios[len(ratios) // 2]
    peak = max(r[2] for r in ours)
    size = report.stat().st_size
    ok = ratio <= 2 and peak < 600 * MIB
    return [
        f"20,000 tiny blocks (ModuleList of Linear(4, 4)): `netscope report -o x.{fmt}` vs plain "
        "build + forward + backward, interleaved",
        f"{sorted(r[0] for r in ours)[repeats // 2]:.1f} s, {ratio:.2f} x (spread "
        f"{min(ratios):.2f}-{max(ratios):.2f} x), peak RSS {peak / MIB:.0f} MiB, file "
        f"{size / MIB:.1f} MiB; CPU (user + sys) {cpu[len(cpu) // 2]:.2f} x (spread "
        f"{cpu[0]:.2f}-{cpu[-1]:.2f} x); load {load}-{_load()}",
        "<= 2 x, < 600 MiB",
        verdict(ok),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows = [
            resnet_vs_torchinfo(out),
            resnet_vs_torchinfo(out, backward=False),
            resnet_phase_vs_torchinfo(out, backward=True),
            resnet_phase_vs_torchinfo(out, backward=False),
            resnet_phase_floor(out, backward=True),
            resnet_phase_floor(out, backward=False),
            big_on_meta(out),
            checkpoint_metadata(out),
            sharded_70b(out, with_config=False),
            tiny_blocks_report(out, "json"),
            tiny_blocks_report(out, "html", repeats=1),
        ]
    print("## Core\n")
    print(markdown_table(["measure", "result", "target", "verdict"], rows))


if __name__ == "__main__":
    main()
