"""The app over Snapshots the engine takes from real sample models (torch runs here)."""

from __future__ import annotations

import pytest
from conftest import build_app, wait_for

from netscope.app.tree_index import NodeKey
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm


@pytest.fixture(scope="module")
def tied_stream() -> list[wm.WorkerMessage]:
    snapshot = api.take_snapshot(LoadOptions("sample_models/tied_embedding.py"))
    return [wm.Progress("building"), wm.SnapshotReady(snapshot), wm.Finished(None)]


async def test_real_tied_model_walks_and_jumps_between_ties(tied_stream):
    app, _ = build_app(tied_stream, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        assert "TinyLM" in str(tree.root.label)
        await pilot.press("slash", *"tied", "enter")
        names = [k.name for k in app.main.matches]
        assert "embed_tokens.weight" in names
        assert tree.selected_key.name == names[0]
        await pilot.press("t")
        assert tree.selected_key.name == "lm_head.weight"


async def test_real_lazy_model_marks_lazy_parameters():
    snapshot = api.take_snapshot(LoadOptions("sample_models/lazy_mlp.py"))
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.main.apply_filter("lazy")
        assert app.main.matches and all(k.kind == "parameter" for k in app.main.matches)
        key = app.main.query_one(BlockTree).selected_key
        assert key == app.main.matches[0] and isinstance(key, NodeKey)
        assert "lazy" in str(app.main.query_one(BlockTree).cursor_node.label)


GPT2_FILE = """
import torch
import transformers

def build_model():
    config = transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50, n_positions=16)
    return transformers.GPT2Model(config)

def example_input():
    return {"input_ids": torch.zeros(1, 4, dtype=torch.long)}
"""


async def test_a_library_blocks_source_reads_from_its_package(tmp_path, monkeypatch):
    """transformers' block: ``transformers/models/gpt2/modeling_gpt2.py:N``, never the whole
    site-packages path the snapshot carries."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "gpt2_file.py"
    path.write_text(GPT2_FILE)
    snapshot = api.take_snapshot(LoadOptions(str(path), backward=False))
    block = snapshot.block_by_path["h.0"]
    assert block.source is not None and "site-packages" in block.source  # what it shortens
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.main.jump(NodeKey("block", "h.0", ""))
        await pilot.pause()
        text = app.main.query_one(DetailsPanel).plain_text
        assert "transformers/models/gpt2/modeling_gpt2.py:" in text
        assert "site-packages" not in text


async def test_real_lazy_model_without_input_shows_unknown_counts(tmp_path):
    """A LazyLinear's count is n/a before the first forward (not 0); the header says 'at least'."""
    path = tmp_path / "lazy_head.py"
    path.write_text(
        "from torch import nn\n\n"
        "def build_model():\n"
        "    return nn.Sequential(nn.Linear(4, 8), nn.LazyLinear(3))\n"
    )
    snapshot = api.take_snapshot(LoadOptions(str(path)))
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.main.query_one("ProgressLine").summary == "Sequential · at least 40 params"
        tree = app.main.query_one(BlockTree)
        assert "Sequential ≥40" in str(tree.root.label)
        labels = [str(node.label) for node in tree.root.children]
        assert any(label.startswith("1 LazyLinear n/a") for label in labels), labels


def test_a_module_list_is_never_called_itself(tmp_path):
    """A ModuleList's calls: 'n/a (container: never called itself)', and not '0 calls'."""
    from rich.console import Console

    from netscope.app.details_text import block_details
    from netscope.app.live_state import LiveState
    from netscope.app.tree_index import TreeIndex
    from netscope.engine.model import BlockTiming

    path = tmp_path / "stack.py"
    path.write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Stack(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])\n\n"
        "    def forward(self, x):\n"
        "        for layer in self.layers:\n"
        "            x = layer(x)\n"
        "        return x\n\n"
        "build_model = Stack\n\n"
        "def example_input():\n"
        "    return torch.ones(2, 4)\n"
    )
    snapshot = api.take_snapshot(LoadOptions(str(path)))
    layers = snapshot.block_by_path["layers"]
    assert layers.calls is None and snapshot.block_by_path["layers.0"].calls == 1
    timing = BlockTiming("layers", "cpu", None, None, 0)
    live = LiveState(block_timings={"cpu": (timing,)})
    console = Console(width=200, record=True)
    console.print(block_details(layers, TreeIndex(snapshot), live))
    text = console.export_text()
    assert "n/a (container: never called itself)" in text
    assert "0 calls" not in text and "calls  n/a\n" not in text
