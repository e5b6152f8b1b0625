"""Wrapper prefixes in --weights (DataParallel, torch.compile, Lightning), TorchScript archives,
--input-shape for checkpoints that hold a whole module. Real saves of real wrappers."""

from __future__ import annotations

import json

import pytest
import torch
from core_helpers import snap, write_model
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from netscope.engine.errors import NetscopeError
from netscope.report.html import render_html
from netscope.report.markdown import render_markdown
from netscope.report.serialize import report_dict

MODEL = """
from torch import nn
def build_model():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
"""


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _dataparallel(path) -> None:
    torch.save(nn.DataParallel(_mlp()).state_dict(), path)


def _compiled(path) -> None:
    torch.save(torch.compile(_mlp()).state_dict(), path)


def _lightning(path) -> None:
    """Lightning's checkpoint: the LightningModule's state_dict (model held as self.model)."""

    class LitModule(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = _mlp()

    torch.save({"epoch": 2, "global_step": 10, "state_dict": LitModule().state_dict(),
                "optimizer_states": [], "pytorch-lightning_version": "2.4.0"}, path)  # fmt: skip


@pytest.mark.parametrize(
    ("save", "prefix", "origin"),
    [
        (_dataparallel, "module.", "DataParallel"),
        (_compiled, "_orig_mod.", "torch.compile"),
        (_lightning, "model.", "Lightning"),
    ],
)
def test_stripped_prefix_is_named_with_what_to_do(tmp_path, save, prefix, origin) -> None:
    path = tmp_path / "wrapped.ckpt"
    save(path)
    state = torch.load(path, weights_only=True)
    state = state.get("state_dict", state)
    with pytest.raises(RuntimeError):  # what the user would hit without netscope's matching
        _mlp().load_state_dict(state)
    model_file = write_model(tmp_path, "m.py", MODEL)
    snapshot = snap(model_file, weights=str(path))
    diff = snapshot.checkpoint
    assert diff.clean and diff.loaded == 4 and diff.stripped_prefix == prefix
    note = diff.notes[0]
    assert (
        repr(prefix) in note
        and origin in note
        and "consume_prefix_in_state_dict_if_present" in note
    )
    consume_prefix_in_state_dict_if_present(state, prefix)  # the advice works
    _mlp().load_state_dict(state)
    report = json.loads(json.dumps(report_dict(snapshot)))
    assert report["checkpoint"]["stripped_prefix"] == prefix
    assert report["checkpoint"]["notes"] == [note]
    markdown = render_markdown(snapshot)
    assert f"once the prefix {prefix!r} is removed" in markdown and origin in markdown
    assert "consume_prefix_in_state_dict_if_present" in render_html(snapshot)


def test_matching_keys_have_no_prefix_note(tmp_path) -> None:
    path = tmp_path / "plain.pt"
    torch.save(_mlp().state_dict(), path)
    diff = snap(write_model(tmp_path, "m.py", MODEL), weights=str(path)).checkpoint
    assert diff.clean and diff.stripped_prefix == "" and diff.notes == ()
    assert report_dict(snap(write_model(tmp_path, "m.py", MODEL)))["checkpoint"] is None


def test_app_root_details_show_the_prefix_note(tmp_path) -> None:
    from rich.console import Console

    from netscope.app.details_text import block_details
    from netscope.app.live_state import LiveState
    from netscope.app.tree_index import TreeIndex

    path = tmp_path / "dp.pt"
    _dataparallel(path)
    snapshot = snap(write_model(tmp_path, "m.py", MODEL), weights=str(path))
    index = TreeIndex(snapshot)
    console = Console(width=200, record=True)
    console.print(block_details(snapshot.block_by_path[""], index, LiveState()))
    text = console.export_text()
    assert "checkpoint" in text and "'module.'" in text and "DataParallel" in text


def test_torchscript_archive_is_named_and_opened_with_the_flag(tmp_path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(_mlp()), str(path))
    with pytest.raises(NetscopeError) as err:
        snap(str(path))
    text = str(err.value)
    assert "TorchScript archive" in text and "torch.jit.load" in text and "--trust-pickle" in text
    assert "truncated or corrupt" not in text and "scripted.pt" in text
    trusted = snap(str(path), trust_pickle=True)
    assert trusted.kind == "model" and trusted.total_params == 23
    assert [b.path for b in trusted.blocks] == ["", "0", "1", "2"]
    assert "TorchScript" in trusted.forward.note
    as_weights = snap(write_model(tmp_path, "m.py", MODEL), weights=str(path), trust_pickle=True)
    assert as_weights.checkpoint.clean and as_weights.checkpoint.loaded == 4


def test_input_shape_reaches_a_whole_module_checkpoint(tmp_path) -> None:
    """Before: the report said no --input-shape was given, and check asked for one."""
    path = tmp_path / "whole.pt"
    torch.save(_mlp(), path)
    snapshot = snap(str(path), trust_pickle=True, input_shape=(2, 4))
    assert snapshot.forward.ran and "--input-shape 2,4" in snapshot.forward.input_summary
    assert snapshot.block_by_path["2"].outputs[0].shape == (2, 2)
    no_input = snap(str(path), trust_pickle=True)
    assert not no_input.forward.ran and "--input-shape" in no_input.forward.note
    assert "example_input()" not in no_input.forward.note


def test_check_profiles_a_whole_module_checkpoint_with_input_shape(tmp_path, capsys) -> None:
    from netscope.cli import main

    path = tmp_path / "whole.pt"
    torch.save(_mlp(), path)
    argv = ["check", str(path), "--trust-pickle", "--input-shape", "2,4", "--devices", "cpu"]
    code = main([*argv, "--time-budget", "0.2", "--max-syncs", "100"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "example_input" not in out.out + out.err
