"""The run's tree shows what the observed step did per block, as a model file's forward does:
calls per call of the model (not per step: micro-batches call every block again) and outputs."""

from __future__ import annotations

from pathlib import Path

from netscope.report.tables import blocks_table
from tests.run.helpers import run_headless


def test_calls_per_model_call_and_outputs_of_an_accumulating_loop(tmp_path: Path) -> None:
    done, report = run_headless(tmp_path, ["accumulate_shared.py"], every=None)
    assert done.returncode == 0, done.stderr[-3000:]
    blocks = {b["path"]: b for b in report["model"]["modules"]}
    assert report["run"]["model_calls_per_step"] == 2.0
    assert {path: b["calls"] for path, b in blocks.items()} == {
        "": 1, "embed": 1, "shared": 2, "head": 1,
    }  # fmt: skip
    assert blocks["shared"]["outputs"] == [{"label": "", "shape": [6, 16], "dtype": "float32"}]
    assert blocks[""]["outputs"] == [
        {"label": "logits", "shape": [6, 4], "dtype": "float32"},
        {"label": "hidden", "shape": [6, 16], "dtype": "float32"},
    ]


def test_a_library_class_reads_from_its_package_in_the_blocks_table() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    import netscope

    config = GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=64, n_positions=16)
    snapshot = netscope.inspect(GPT2LMHeadModel(config)).snapshot
    assert "site-packages" in (snapshot.blocks[0].source or "")  # the snapshot keeps the file
    root = blocks_table(snapshot).rows[0]
    assert root[1] == "GPT2LMHeadModel"
    assert root[2].startswith("custom (transformers/models/gpt2/modeling_gpt2.py:"), root[2]


def test_a_block_reused_under_two_paths_shows_its_calls_under_both(tmp_path: Path) -> None:
    done, report = run_headless(tmp_path, ["alias_loop.py"], every=None)
    assert done.returncode == 0, done.stderr[-3000:]
    blocks = {b["path"]: b for b in report["model"]["modules"]}
    assert blocks["first"]["calls"] == blocks["again"]["calls"] == 2
    assert blocks["again"]["outputs"] == blocks["first"]["outputs"] != []
