"""An 80x24 terminal: details wrap between words (and after a path's /), markers come before the
output shape so a narrow tree cuts the shape, and the progress line keeps the profiling state."""

from __future__ import annotations

import io

from conftest import wait_for
from rich.console import Console

from netscope.app.facts import Facts, wrap_words
from netscope.app.labels import block_label, tensor_label
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel


def test_values_break_between_words_and_after_slashes() -> None:
    assert wrap_words("sample_models/tied_embedding.py:17", 21) == [
        "sample_models/", "tied_embedding.py:17"
    ]  # fmt: skip
    assert wrap_words("mean 0.248 std 6.982 zeros 0.0%", 21) == [
        "mean 0.248 std 6.982", "zeros 0.0%"
    ]  # fmt: skip
    assert wrap_words("a" * 12, 5) == ["aaaaa", "aaaaa", "aa"]  # no break possible: folded
    console = Console(width=35, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(
            Facts([("output logits", "x"), ("source", "sample_models/tied_embedding.py:17")])
        )
    assert "tied_embedding.py:17" in captured.get()
    console = Console(width=33, file=io.StringIO(), color_system=None)  # the column: 19
    with console.capture() as captured:
        console.print(Facts([("output logits", "x"), ("module", "torch.nn.modules.linear")]))
    assert captured.get().splitlines()[1:] == ["module", "  torch.nn.modules.linear"]


async def test_a_narrow_tree_keeps_the_markers(toy_app) -> None:
    app, _ = toy_app
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        snapshot = app.snapshot
        head = snapshot.block_by_path["head"]
        label = block_label(head, snapshot, ["tied"]).plain
        assert label.index("tied") < label.index("→")  # the shape is what a narrow pane cuts
        weight = snapshot.tensor_by_name["head.weight"]
        assert tensor_label(weight, ["tied"]).plain.startswith("◦ weight tied ")
        tree = app.main.query_one(BlockTree)
        rows = [tree.render_line(y).text for y in range(tree.size.height)]
        assert any("head" in row and "tied" in row for row in rows)
        assert app.main.query_one(DetailsPanel).plain_text
        line = app.main.query_one("ProgressLine")
        line.stage = "a long stage " * 10  # the passing stage comes last: the state stays
        assert "profiling: " in line.render().plain[:78]
