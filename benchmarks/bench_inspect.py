"""``netscope.inspect`` (issue 21) against the CLI's whole ``netscope report`` of the same model.

Run: python benchmarks/bench_inspect.py [MODEL_FILE] [PAIRS]   (default: ResNet-152, 3 pairs)

A pair, interleaved (a drift in machine load hits both alike): the CLI's whole process
``netscope report MODEL -o r.json``, then a Python process that imports torch, builds the same
model, and times ``netscope.inspect(model, *example)`` + ``report.save("r.json")``: the call a
notebook user waits for (netscope's own modules are imported inside it, the first call).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, markdown_table, python, verdict

RESNET = str(ROOT / "sample_models" / "resnet152.py")

PROBE = """
import sys, time
import torch
from netscope.engine.load.modelfile import import_model_file
module = import_model_file(sys.argv[1])
model = module.build_model()
example = module.example_input()
start = time.perf_counter()
import netscope
if isinstance(example, dict):
    report = netscope.inspect(model, **example)
elif isinstance(example, (tuple, list)):
    report = netscope.inspect(model, *example)
else:
    report = netscope.inspect(model, example)
report.save(sys.argv[2])
print(time.perf_counter() - start)
"""


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


def inspect_vs_report(model: str, pairs: int) -> list[str]:
    """One table row: inspect's call over the CLI's whole report, median and spread of pairs."""
    with tempfile.TemporaryDirectory() as folder:
        cli_json, api_json = os.path.join(folder, "cli.json"), os.path.join(folder, "api.json")
        cli_argv = python("-m", "netscope", "report", model, "-o", cli_json)
        probe_argv = python("-c", PROBE, model, api_json)
        cli, calls, processes = [], [], []
        for _ in range(pairs):
            cli.append(timed(cli_argv)[0])
            whole, stdout = timed(probe_argv)
            processes.append(whole)
            calls.append(float(stdout.strip().splitlines()[-1]))
    ratios = sorted(call / whole for call, whole in zip(calls, cli, strict=True))
    ratio = ratios[len(ratios) // 2]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    name = Path(model).name
    return [
        f"{name}: `netscope.inspect(model, x)` + `save('r.json')` (model built, torch imported) "
        f"vs the CLI's whole `netscope report {name} -o r.json`",
        f"{_median(calls):.2f} s vs {_median(cli):.2f} s = {ratio:.2f} x (pairs "
        f"{ratios[0]:.2f}-{ratios[-1]:.2f} x, {pairs} pairs); the inspecting process whole: "
        f"{_median(processes):.2f} s; load average {load} at the end",
        "<= 1.0 x",
        verdict(ratio <= 1.0),
    ]


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    model = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else RESNET
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    row = inspect_vs_report(model, pairs)
    print("## Python API (netscope.inspect)\n")
    print(markdown_table(["measure", "result", "target", "verdict"], [row]))


if __name__ == "__main__":
    main()
