"""Issue 7.7, scale: 2,000 tiny blocks give a compact JSON, a lazily rendered HTML tree, and
statistics from the batched pass equal to the per-tensor ones."""

from __future__ import annotations

import io
import json
import math

import pytest
import torch
from torch import nn

from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot import values
from netscope.engine.snapshot.build import snapshot_model
from netscope.report.html import render_html
from netscope.report.json_report import CHUNK, render_json, write_json

BLOCKS = 2000


class Chain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(4, 4) for _ in range(BLOCKS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@pytest.fixture(scope="module")
def snapshot():
    torch.manual_seed(0)
    model = Chain()
    loaded = LoadedTarget(
        path="chain.py", options=LoadOptions(target="chain.py"), model=model,
        example_input=ExampleInput(args=(torch.randn(2, 4),), origin="example_input()"),
    )  # fmt: skip
    return snapshot_model(loaded)


def test_json_is_compact_and_bounded_per_block(snapshot) -> None:
    text = render_json(snapshot)
    assert "\n " not in text  # not pretty-printed
    per_block = len(text) / BLOCKS
    # ~2,005 compact (60 of them the block's FLOPs and saved bytes, 75 its own ones, 110 the
    # sharding fields: fsdp_unit and parallel_style, each tensor's local_shape and placements);
    # indented: ~3,900
    assert per_block < 2030, per_block
    report = json.loads(text)
    assert len(report["model"]["modules"]) == BLOCKS + 2
    assert report["model"]["parameters"][0]["stats"]["histogram"]


def test_streamed_json_is_the_same_text(snapshot) -> None:
    """write_json streams a large report in chunks; the bytes are render_json's text in UTF-8."""
    assert len(snapshot.parameters) > 2 * CHUNK and len(snapshot.parameters) % CHUNK == 0
    stream = io.BytesIO()
    write_json(snapshot, None, stream)
    assert stream.getvalue() == render_json(snapshot).encode()
    again = io.BytesIO()  # the snapshot is untouched by a stream
    write_json(snapshot, None, again)
    assert again.getvalue() == stream.getvalue()


def test_html_tree_and_long_tables_are_data_not_markup(snapshot) -> None:
    page = render_html(snapshot)
    assert page.count("<tr>") < 50  # summary only: 2,002 blocks and 4,000 parameters are data
    assert page.count('class="leaf"') == 0
    assert 'id="tree-data"' in page and 'data-table="table-parameters"' in page
    start = page.index('id="tree-data">') + len('id="tree-data">')
    tree = json.loads(page[start : page.index("</script>", start)])
    assert len(tree["nodes"]) == BLOCKS + 2
    assert len(tree["nodes"][1][1]) == BLOCKS  # the ModuleList's children, rendered on expand


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return a == b


def test_batched_statistics_equal_per_tensor(monkeypatch) -> None:
    torch.manual_seed(1)
    tensors = [
        torch.randn(4, 4), torch.randn(1), torch.zeros(3), torch.tensor([1.0, float("nan"), 2.0]),
        torch.tensor([float("inf"), -1.0]), torch.randint(0, 5, (10,)),
        torch.randn(7, dtype=torch.float16), torch.randn(3, dtype=torch.complex64),
        torch.randn(100, 100),
    ]  # fmt: skip
    params = [nn.Parameter(torch.randn(3, 3)), nn.Parameter(torch.randn(2))]
    for p in params:
        p.grad = torch.randn_like(p)
    params[1].grad[0] = float("nan")
    outputs = [torch.randn(3, 4), torch.relu(torch.randn(10)), torch.randn(1)]
    calls = []
    monkeypatch.setattr(values, "_Segments", _counting(values._Segments, calls))
    batched = (
        values.tensor_stats(tensors),
        values.grad_stats(params),
        values.activation_stats([values.activation_row(t) for t in outputs]),
    )
    # one batch per dtype and rank: values (float32 2-D and 1-D, int64, float16: the complex
    # tensor's magnitudes join float32 1-D), gradients (2-D, 1-D), activations (flattened)
    assert len(calls) == 4 + 2 + 1
    monkeypatch.setattr(values, "BATCH_NUMEL", 0)
    single = (
        values.tensor_stats(tensors),
        values.grad_stats(params),
        values.activation_stats([values.activation_row(t) for t in outputs]),
    )
    for many, one in zip(batched, single, strict=True):
        for a, b in zip(many, one, strict=True):
            for field in a.__dataclass_fields__:
                x, y = getattr(a, field), getattr(b, field)
                assert _close(x, y) or (x != x and y != y), (field, x, y)


def _counting(cls, calls):
    class Counting(cls):
        def __init__(self, tensors) -> None:
            calls.append(len(tensors))
            super().__init__(tensors)

    return Counting


def test_compact_json_reads_back_as_json_writes_it() -> None:
    """The compact encoder (orjson) gives the values json gives, numpy floats included, and
    refuses what json refuses."""
    import numpy as np

    from netscope.report.json_report import _compact_text

    data = {"a": np.float64(1.5), "b": [3, True, None, 1e-05, 'q"uote', "µs"], "c": {"d": 2.5}}
    assert json.loads(_compact_text(data)) == json.loads(json.dumps(data))
    with pytest.raises(TypeError):
        _compact_text({"x": object()})


def test_bulk_rounding_gives_the_floats_num_gives() -> None:
    from netscope.report.values import BULK_MIN, num, nums

    torch.manual_seed(3)
    magnitudes = 10.0 ** torch.randint(-30, 31, (BULK_MIN * 3,)).double()
    values: list[float | None] = (torch.randn(BULK_MIN * 3).double() * magnitudes).tolist()
    values += [0.0, -0.0, float("nan"), float("inf"), -float("inf"), None, 1e-320, 1e300]
    values += [0.1234565, 9.9999995, 999999.5, 1234565.0, 2.5e-7, 3, 1.0, -7.25]
    assert len(values) >= BULK_MIN  # the bulk path
    assert nums(values) == [num(v) for v in values]
    given = [v for v in values if v is not None]  # no None: torch reads the list as it is
    assert nums(given) == [num(v) for v in given]
    finite = [v for v in given if math.isfinite(v)]  # no NaN out: no pass to turn it to None
    assert nums(finite) == [num(v) for v in finite]


def test_large_report_figures_equal_one_by_one_rounding(snapshot, monkeypatch) -> None:
    from netscope.report import values as report_values
    from netscope.report.serialize import report_dict

    assert 8 * len(snapshot.parameters) >= report_values.BULK_MIN  # the bulk path
    bulk = report_dict(snapshot)["model"]
    monkeypatch.setattr(report_values, "BULK_MIN", 10**9)  # every value through num alone
    single = report_dict(snapshot)["model"]
    assert bulk["parameters"] == single["parameters"] and bulk["buffers"] == single["buffers"]
