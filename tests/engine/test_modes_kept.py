"""netscope's own passes leave every module's training flag as it was, mixed modes included:
the snapshot (with --train and --fit, whose meta step runs in train mode), the profiler's step
and a file's step() that calls model.train() itself."""

from __future__ import annotations

from pathlib import Path

import torch
from core_helpers import write_model
from torch import nn

from netscope.engine.api import snapshot_loaded
from netscope.engine.load.loaded import ExampleInput
from netscope.engine.load.target import load_target
from netscope.engine.modes import training_flags_kept
from netscope.engine.options import LoadOptions
from netscope.engine.profiler.step import prepared_step

MIXED = """
    import torch
    from torch import nn

    def build_model():
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.BatchNorm1d(8), nn.Linear(8, 2))
        model.train()
        model[2].eval()  # frozen statistics under a training model: a common fine-tuning setup
        return model

    def example_input():
        return torch.randn(4, 4)

    def step(model, batch):
        model.train()  # the user's own step flips every flag
        return model(batch).sum()
"""


def _flags(model: nn.Module) -> list[bool]:
    return [module.training for module in model.modules()]


def test_the_snapshot_and_fit_keep_mixed_modes(tmp_path: Path) -> None:
    path = write_model(tmp_path, "mixed.py", MIXED)
    loaded = load_target(LoadOptions(path, train=True, fit="24GiB"))
    assert loaded.model is not None
    before = _flags(loaded.model)
    assert before == [True, True, True, False, True]
    snapshot = snapshot_loaded(loaded)
    assert snapshot.fit is not None and snapshot.forward.ran
    assert _flags(loaded.model) == before


def test_the_profiled_step_keeps_mixed_modes() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    model[1].eval()
    before = _flags(model)
    for train in (True, False):
        with prepared_step(model, ExampleInput(args=(torch.ones(4, 3),)), "cpu", train=train) as s:
            s.run()
        assert _flags(model) == before  # model.train(was) would have put the BatchNorm in train


def test_the_flags_come_back_after_an_error() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    model[1].eval()
    try:
        with training_flags_kept(model):
            model.train()
            raise RuntimeError("the user's step failed")
    except RuntimeError:
        pass
    assert _flags(model) == [True, True, False]


class FrozenNorm(nn.Module):
    """A fine-tuning block whose own ``train`` keeps its norm's statistics frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(2, 2)
        self.norm = nn.BatchNorm1d(2)
        self.modes: list[bool] = []

    def train(self, mode: bool = True) -> FrozenNorm:
        self.modes.append(mode)
        super().train(mode)
        self.norm.eval()
        return self


def test_set_training_sets_every_flag_as_train_does_and_honours_a_class_own_train() -> None:
    from netscope.engine.modes import set_training
    from netscope.engine.snapshot.forward import StepMode

    plain = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    plain[1].eval()
    set_training(plain, True)
    assert _flags(plain) == [True] * 5
    set_training(plain, False)
    assert _flags(plain) == [False] * 5
    model = nn.Sequential(FrozenNorm(), nn.Linear(2, 1))
    with training_flags_kept(model):
        StepMode(model, train=True)  # --train: the step in train mode, as model.train() sets it
        assert model[0].modes == [True]
        assert _flags(model) == [True, True, True, False, True]
        StepMode(model, train=False)
        assert model[0].modes == [True, False]
        assert _flags(model) == [False] * 5
    assert _flags(model) == [True] * 5  # as built: train mode, the norm's flag included
