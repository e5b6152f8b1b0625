"""quick_init: the hot rows keep the dataclass contract with a faster __init__."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from netscope.engine.model import BlockInfo, GradStats, ParamInfo, TensorStats, quick_init


def test_quick_rows_keep_the_signature_defaults_and_frozenness() -> None:
    for cls in (TensorStats, GradStats, ParamInfo, BlockInfo):
        names = [f.name for f in dataclasses.fields(cls)]
        assert list(inspect.signature(cls).parameters) == names
    stats = TensorStats(1.0, 2.0, -1.0, 3.0, 4.0, 0, 0, 0.25)
    assert stats.histogram == () and stats.histogram_range is None and stats.over == "values"
    assert stats == TensorStats(1.0, 2.0, -1.0, 3.0, 4.0, 0, 0, 0.25)
    assert hash(stats) == hash(TensorStats(1.0, 2.0, -1.0, 3.0, 4.0, 0, 0, 0.25))
    assert dataclasses.replace(stats, mean=5.0).mean == 5.0
    assert pickle.loads(pickle.dumps(stats)) == stats
    assert GradStats(present=True, norm=2.0) == GradStats(True, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.mean = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing"):
        TensorStats(1.0)  # type: ignore[call-arg]


def test_quick_init_refuses_fields_it_cannot_fill() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="WithFactory"):
        quick_init(WithFactory)
