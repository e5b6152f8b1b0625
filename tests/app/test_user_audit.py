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


LSTM_FILE = """
import torch
from torch import nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return self.head(out)

def build_model():
    torch.manual_seed(0)
    return Tagger()

def example_input():
    return torch.randint(0, 20, (2, 5))
"""


def _torch_dispatcher_error() -> wm.WorkerError:
    """What the worker sent for an LSTM model: torch's own 60-line 'Could not run' error (the
    fused LSTM cell has no CPU kernel), wrapped as the worker wraps a failed stage."""
    import torch

    from netscope.engine.errors import wrap_user_error

    stage = "finding copies and syncs on cpu"
    gates = torch.zeros(2, 64)
    try:
        torch.ops.aten._thnn_fused_lstm_cell(gates, gates, torch.zeros(2, 16))
    except NotImplementedError as exc:
        error = wrap_user_error(exc, f"{stage} failed")
    else:  # pragma: no cover - a torch with a CPU kernel for it
        pytest.skip("this torch runs the fused LSTM cell on the CPU")
    assert error.message.count("\n") > 20  # what made the notification fill the screen
    return wm.WorkerError(error.message, stage=stage, location="lstm_file.py:13")


async def _failed_lstm_app(tmp_path):
    path = tmp_path / "lstm_file.py"
    path.write_text(LSTM_FILE)
    snapshot = api.take_snapshot(LoadOptions(str(path)))
    stream = [
        wm.SnapshotReady(snapshot),
        wm.Progress("profiling", "finding copies and syncs on cpu"),
        _torch_dispatcher_error(),
    ]
    app, _ = build_app(stream, load=LoadOptions(str(path)))
    return app


async def test_a_profiling_failure_reads_in_one_line(tmp_path):
    """A real LSTM model whose copy/sync pass failed: the notification held torch's whole
    dispatcher listing (the screen's height, for 10 s) and the status read 'failed finding
    copies and syncs on cpu failed: ...' on one line cut from 60."""
    from netscope.app.widgets.progress_line import ProgressLine

    app = await _failed_lstm_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.status == "failed")
        notes = [str(n.message) for n in app._notifications]
        assert notes and all("\n" not in n and len(n) < 300 for n in notes), notes
        assert "NotImplementedError" in notes[-1] and "_thnn_fused_lstm_cell" in notes[-1]
        assert notes[-1].endswith(" at lstm_file.py:13")
        status = app.main.query_one(ProgressLine).profiling
        assert "\n" not in status and status.count("failed") == 1, status
        assert status.startswith("failed in finding copies and syncs on cpu: NotImplementedError")


async def test_tables_a_failed_profile_never_fills_say_so(tmp_path):
    """After that failure Copies and Syncs said 'not measured yet', as if still coming."""
    from netscope.app.widgets.copies_table import CopiesTable
    from netscope.app.widgets.syncs_table import SyncsTable

    app = await _failed_lstm_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.status == "failed")
        await pilot.pause()
        for table in (CopiesTable, SyncsTable):
            rows = app.main.query_one(table).data_rows
            assert rows[0][0] == "not measured: profiling failed (finding copies and syncs on cpu)"


async def test_a_checkpoint_alone_is_not_a_failed_profile(tmp_path, gpt2_file):
    """`netscope ckpt.pt`: the status read 'profiling: failed ... is a checkpoint alone', a red
    notification said 'Profiling failed', and `p` started the same failure again."""
    import importlib.util

    import torch

    from netscope.app.widgets.copies_table import CopiesTable
    from netscope.app.widgets.progress_line import ProgressLine

    spec = importlib.util.spec_from_file_location("gpt2_file", gpt2_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ckpt = tmp_path / "gpt2.pt"
    torch.save(module.build_model().state_dict(), ckpt)
    load = LoadOptions(str(ckpt))
    snapshot = api.take_snapshot(load)
    assert snapshot.kind == "checkpoint"
    # what the worker sends after the snapshot when asked to profile a checkpoint alone
    refused = wm.WorkerError(
        f"{ckpt} is a checkpoint alone: there is no model to profile", stage="profiling"
    )
    tried = wm.Progress("profiling", "timing the step on cpu")
    app, _ = build_app([wm.SnapshotReady(snapshot), tried, refused], load=load)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.pause(0.2)
        status = app.main.query_one(ProgressLine).profiling
        assert status == "not profiled (a checkpoint alone: no model to run)", status
        assert app.main.query_one(ProgressLine).stage == ""
        assert not any(n.severity == "error" for n in app._notifications)
        rows = app.main.query_one(CopiesTable).data_rows
        assert rows[0][0] == "not measured: a checkpoint alone: no model to run"
        await pilot.press("p")
        assert app.status == "checkpoint"
        assert "--weights" in str(list(app._notifications)[-1].message)


async def test_a_checkpoints_differences_are_named_on_the_root_and_its_tensors(tmp_path, gpt2_file):
    """With --weights on a checkpoint that lacks a key, holds an extra one and stores one tensor
    in another shape, the root said only "28 loaded, differs from the model": no key was named,
    and the tensors it left at their initial values said nothing. The root's heading repeated
    the class ("GPT2LMHeadModel GPT2LMHeadModel")."""
    import torch

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        model = api.load_target(LoadOptions(gpt2_file)).model
        state = model.state_dict()
        del state["transformer.h.0.mlp.c_fc.bias"]
        state["extra.weight"] = torch.zeros(2)
        state["transformer.ln_f.weight"] = torch.ones(8)
        ckpt = tmp_path / "changed.pt"
        torch.save(state, ckpt)
        snapshot = api.take_snapshot(LoadOptions(gpt2_file, weights=str(ckpt)))
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.main.jump(NodeKey("block", "", ""))
        await pilot.pause()
        root = _details(app)
        assert "GPT2LMHeadModel GPT2LMHeadModel" not in root
        assert "transformer.h.0.mlp.c_fc.bias" in root and "extra.weight" in root
        assert "transformer.ln_f.weight" in root
        app.main.jump(NodeKey("parameter", "transformer.ln_f.weight", "transformer.ln_f"))
        await pilot.pause()
        assert "NOT loaded: shape [8] in the checkpoint, [16] in the model" in _details(app)
        bias = "transformer.h.0.mlp.c_fc.bias"
        app.main.jump(NodeKey("parameter", bias, "transformer.h.0.mlp.c_fc"))
        await pilot.pause()
        assert "not in the checkpoint: the model's own initial values" in _details(app)
