"""What a reader sees in the reports of real models nobody here wrote (a Hugging Face BERT, a
hand-written CNN): each test is a defect a user met, on the real engine and the real writers."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from netscope.engine.api import take_snapshot
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.report.write import write_report

BERT = """
import torch
from transformers import BertConfig, BertForSequenceClassification

def build_model():
    torch.manual_seed(0)
    config = BertConfig(num_hidden_layers=2, num_attention_heads=2, hidden_size=64,
                        intermediate_size=128, vocab_size=500, max_position_embeddings=64)
    return BertForSequenceClassification(config)

def example_input():
    torch.manual_seed(0)
    return {"input_ids": torch.randint(0, 500, (2, 16)),
            "attention_mask": torch.ones(2, 16, dtype=torch.long)}
"""


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("bert") / "bert_model.py"
    path.write_text(BERT)
    return take_snapshot(LoadOptions(str(path)))


class _Tables(HTMLParser):
    """For each <table>, the classes of the elements it sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.tables: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"meta", "br", "hr", "img", "input", "link"}:
            return
        if tag == "table":
            self.tables.append([cls for _, cls in self.stack])
        self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def test_wide_tables_scroll_in_their_own_box(bert: Snapshot, tmp_path: Path) -> None:
    """BERT's Blocks table (paths like `bert.encoder.layer.0.attention.output.LayerNorm`, the
    class's file, outputs) is 1,486 px wide: bare in the 1,200 px body it pushed the whole page
    past a 1,300 px window and cut the Notes column off. Every table now sits in a box that
    scrolls sideways, so the page keeps the window's width."""
    text = Path(write_report(str(tmp_path / "r.html"), bert)).read_text()
    parser = _Tables()
    parser.feed(text)
    assert len(parser.tables) >= 8
    assert all(classes and classes[-1] == "wide" for classes in parser.tables), parser.tables
    assert ".wide{overflow-x:auto" in text
