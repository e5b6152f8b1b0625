"""Defects a user met driving the app on real models (a small GPT-2, an LSTM, a checkpoint):
each test runs the real app under Pilot over the engine's own snapshot of that model."""

from __future__ import annotations

import pytest
from conftest import build_app, wait_for

from netscope.app.tree_index import NodeKey
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm
from netscope.units import size

GPT2_FILE = """
import torch
import transformers

def build_model():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50, n_positions=16)
    return transformers.GPT2LMHeadModel(config)

def example_input():
    return {"input_ids": torch.zeros(1, 4, dtype=torch.long)}
"""


@pytest.fixture(scope="module")
def gpt2_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("gpt2") / "gpt2_file.py"
    path.write_text(GPT2_FILE)
    return str(path)


@pytest.fixture(scope="module")
def gpt2_snapshot(gpt2_file):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        return api.take_snapshot(LoadOptions(gpt2_file))


def _details(app) -> str:
    return app.main.query_one(DetailsPanel).plain_text


async def test_a_blocks_saved_share_names_the_steps_total(gpt2_snapshot):
    """'saved 8.0 KiB of activations for backward, 1.6% of the step's' ended there: the share
    of a total the line never named. It names it, as the FLOPs line does."""
    app, _ = build_app([wm.SnapshotReady(gpt2_snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.main.jump(NodeKey("block", "transformer.h.0.mlp.c_fc", ""))
        await pilot.pause()
        text = _details(app)
        total = gpt2_snapshot.memory.activations_bytes
        line = next(line for line in text.splitlines() if line.lstrip().startswith("saved"))
        assert line.rstrip().endswith(f"of the step's {size(total)}"), line
