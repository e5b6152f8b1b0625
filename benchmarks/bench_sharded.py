"""Sharded 70B checkpoint with config.json: `netscope report FOLDER` against its floor.

The floor is a bare process that does only what any tool needs to show the real block classes:
import torch and the transformers module of the architecture, read config.json and build the
model on the meta device. Pairs are interleaved (a drift in machine load hits both alike).

Run: python benchmarks/bench_sharded.py  (prints Markdown; run_all.py collects it into the docs)
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from harness import markdown_table, python, run_process, verdict

MIB = 1024 * 1024

FLOOR = """
import sys
import torch
import transformers
config = transformers.AutoConfig.from_pretrained(sys.argv[1])
with torch.device("meta"):
    getattr(transformers, config.architectures[0])._from_config(config)
"""


def sharded_70b_vs_floor(out: Path, repeats: int = 3) -> list[str]:
    """`netscope report` on the 28-shard folder with config.json vs the bare import+build."""
    from sparse_checkpoint import write_llama3_70b

    folder = out / "llama70b-config"
    size, _params = write_llama3_70b(folder, with_config=True)
    os.environ["HF_HUB_OFFLINE"] = "1"
    ours_argv = python("-m", "netscope", "report", str(folder), "-o", str(out / "s.json"))
    floor_argv = python("-c", FLOOR, str(folder))
    ours, floor, rss = [], [], []
    for _ in range(repeats):
        run = run_process(ours_argv)
        ours.append(run.seconds)
        rss.append(run.peak_rss_bytes)
        floor.append(run_process(floor_argv).seconds)
    ratios = sorted(a / b for a, b in zip(ours, floor, strict=True))
    ours_s, floor_s = statistics.median(ours), statistics.median(floor)
    return [
        f"Sharded {size / 1e9:.0f} GB Llama-3-70B folder with config.json (LlamaForCausalLM "
        "built on meta by transformers, weights diffed) vs a bare process importing torch + "
        "transformers and building the model on meta",
        f"{ours_s:.2f} s vs floor {floor_s:.2f} s = {statistics.median(ratios):.2f} x "
        f"(spread {ratios[0]:.2f}-{ratios[-1]:.2f} x, {repeats} pairs), "
        f"peak RSS {max(rss) / MIB:.0f} MiB",
        "< 5 s, < 1 GiB",
        verdict(ours_s < 5 and max(rss) < 1024 * MIB)
        + (f": the floor alone takes {floor_s:.1f} s here" if floor_s >= 5 else ""),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [sharded_70b_vs_floor(Path(tmp))]
    print("## Sharded checkpoints with config.json\n")
    print(markdown_table(["measure", "result", "target", "verdict"], rows))


if __name__ == "__main__":
    main()
