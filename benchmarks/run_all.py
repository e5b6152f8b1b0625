"""Run every benchmark and write what they print into docs/benchmarks.md.

Run: python benchmarks/run_all.py            (all)
     python benchmarks/run_all.py core app   (some: printed, docs left as they are)
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "core": "bench_core.py",
    "profiler": "bench_profiler.py",
    "app": "bench_app.py",
    "run": "bench_run.py",
    "frameworks": "bench_frameworks.py",
    "ranks": "bench_ranks.py",
    "sharded": "bench_sharded.py",
    "compute": "bench_compute.py",
    "inspect": "bench_inspect.py",
}


def machine() -> str:
    import os

    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
    )


def main(names: list[str]) -> None:
    sections = []
    for name in names or list(SCRIPTS):
        script = ROOT / "benchmarks" / SCRIPTS[name]
        print(f"running {script.name} ...", file=sys.stderr)
        result = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True
        )
        if result.returncode != 0:
            sections.append(f"## {name}\n\nFAILED:\n\n```\n{result.stderr[-2000:]}\n```")
        else:
            sections.append(result.stdout.strip())
        print(sections[-1])
    if names and set(names) != set(SCRIPTS):
        return  # a partial run only prints; the docs always hold one whole run
    docs = ROOT / "docs" / "benchmarks.md"
    stamp = datetime.date.today().isoformat()
    text = (
        "# Benchmarks\n\n"
        "Written by `python benchmarks/run_all.py`; every figure below is what the scripts printed "
        f"in one run on {stamp} ({machine()}). Ratios compare runs made in the same run of the "
        "script, on the same machine. Tests never time anything: these are the speed targets.\n\n"
        + "\n\n".join(sections)
        + "\n"
    )
    docs.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
