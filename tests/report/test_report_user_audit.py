"""What a reader sees in the reports of real models nobody here wrote (a Hugging Face BERT, a
hand-written CNN): each test is a defect a user met, on the real engine and the real writers."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from netscope.engine.api import take_snapshot
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.worker.session import run_profile
from netscope.report.write import write_report

REPO = Path(__file__).resolve().parents[2]

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


def _cells(text: str, section: str) -> list[str]:
    """The <td> elements (tag and text) of the table under the <h2> ``section``."""
    start = text.index(f"<h2>{section}</h2>")
    body = text[start : text.index("</table>", start)]
    return re.findall(r"<td[^>]*>[^<]*", body)


@pytest.mark.slow
def test_times_and_rates_line_up_as_numbers(tmp_path: Path) -> None:
    """A profiled step's times ("14.90 ms", "622.8 µs") and rates ("569 MFLOP/s") were not
    recognised as figures: left-aligned, and wrapped in two ("14.90 / ms") in the step-time
    table, while the sizes and FLOPs beside them were right-aligned on one line."""
    load = LoadOptions(target=str(REPO / "sample_models" / "mlp.py"))
    snapshot, profile = run_profile(load, ProfileOptions(min_runs=3, max_seconds=0.3))
    text = Path(write_report(str(tmp_path / "r.html"), snapshot, profile, None)).read_text()
    step = _cells(text, "Step time per device")
    times = [cell for cell in step if re.search(r">[\d.,]+ (ms|µs)$", cell)]
    assert len(times) == 5, step  # median, p10, p90, min, max
    assert all(cell.startswith('<td class="num">') for cell in times), times
    rate = [cell for cell in step if cell.endswith("FLOP/s")]
    assert rate and rate[0].startswith('<td class="num">'), step
    blocks = [c for c in _cells(text, "Time per block") if re.search(r" (ms|µs)$", c)]
    assert blocks and all(cell.startswith('<td class="num">') for cell in blocks), blocks


TRAIN_LOOP = """
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Linear(64, 4))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
for step in range(30):
    x, y = torch.randn(16, 32), torch.randint(0, 4, (16,))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


@pytest.mark.slow
def test_a_run_reports_model_part_names_the_step_it_measured(tmp_path: Path) -> None:
    """`netscope run -o run.md` of a training loop: the model part said "FLOPs of the example
    step" and "What the example step holds", when under `run` no example step runs (its own
    summary says so): the figures are one of the script's steps. The memory note's second
    sentence also began in lower case ("... counted once. the script's own step")."""
    script = tmp_path / "train_loop.py"
    script.write_text(TRAIN_LOOP)
    out = tmp_path / "run.md"
    result = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), str(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "| Example forward | did not run." in text
    assert "example step" not in text
    assert "FLOPs of one of the script's own steps, counted from the ops that ran" in text
    memory = next(line for line in text.splitlines() if line.startswith("What one of the"))
    sentences = [s for s in re.split(r"\. ", memory) if s]
    assert all(s[0].isupper() or s.startswith("What") for s in sentences[1:]), memory


GPT2 = """
import torch
from transformers import GPT2Config, GPT2LMHeadModel

def build_model():
    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, vocab_size=500, n_positions=64)
    return GPT2LMHeadModel(config)

def example_input():
    torch.manual_seed(0)
    return {"input_ids": torch.randint(0, 500, (2, 16))}
"""


def test_blocks_table_says_which_rows_hold_a_tied_weight(tmp_path: Path) -> None:
    """GPT-2's `transformer.wte` and `lm_head` rows each read 32,000 parameters, the root
    136,192: a reader adding the rows up got 32,000 too many and nothing in the Blocks table
    (Markdown or HTML) said why. Each row holding a tied tensor now says so."""
    pytest.importorskip("transformers")
    path = tmp_path / "gpt2_model.py"
    path.write_text(GPT2)
    snapshot = take_snapshot(LoadOptions(str(path)))
    rows = {block.path: block for block in snapshot.blocks}
    assert rows["lm_head"].params == rows["transformer.wte"].params == 32_000
    assert snapshot.total_params == rows[""].total_params == 136_192
    note = "tied, counted once: weight (tie group 0)"
    markdown = Path(write_report(str(tmp_path / "r.md"), snapshot)).read_text()
    blocks = markdown[markdown.index("## Blocks") : markdown.index("## Parameters")]
    for label in ("transformer.wte", "lm_head"):
        line = next(ln for ln in blocks.splitlines() if ln.startswith(f"| `{label}` |"))
        assert line.endswith(f"| {note} |"), line
    assert markdown.count(note) == 2  # only the two rows holding it
    html = Path(write_report(str(tmp_path / "r.html"), snapshot)).read_text()
    assert html.count(f"<td>{note}</td>") == 2


@pytest.mark.slow
def test_charts_are_svg_documents_that_render_on_their_own(tmp_path: Path) -> None:
    """A chart copied out of the HTML report into docs (a `.svg` file) had no SVG namespace:
    a browser showed it as a bare XML tree, not a picture. A bar chart's accessible title was
    the bare device name ("cpu")."""
    load = LoadOptions(target=str(REPO / "sample_models" / "mlp.py"))
    snapshot, profile = run_profile(load, ProfileOptions(min_runs=3, max_seconds=0.3))
    text = Path(write_report(str(tmp_path / "r.html"), snapshot, profile, None)).read_text()
    charts = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(charts) >= 2  # the step's timing and the top blocks
    for chart in charts:
        root = ElementTree.fromstring(chart)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", chart[:120]
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text and len(title.text) > len("cpu"), chart[:200]


SPARE = """
import torch
from torch import nn

class Counter(nn.Module):
    def forward(self, x):
        return int(x.shape[0])  # not a tensor

class WithSpare(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(4, 4)
        self.spare = nn.Linear(4, 4)  # never called
        self.count = Counter()
    def forward(self, x):
        self.count(x)
        return self.used(x)

def build_model():
    return WithSpare()

def example_input():
    return torch.randn(2, 4)
"""


def test_blocks_output_cell_says_why_it_holds_no_shape(tmp_path: Path) -> None:
    """A block the forward never called, or one that returned no tensor, had an empty Output
    cell: a reader could not tell a value left out from one that does not exist."""
    path = tmp_path / "spare.py"
    path.write_text(SPARE)
    snapshot = take_snapshot(LoadOptions(str(path)))
    markdown = Path(write_report(str(tmp_path / "r.md"), snapshot)).read_text()
    rows = {
        line.split(" | ")[0]: line.split(" | ")[6]
        for line in markdown[
            markdown.index("## Blocks") : markdown.index("## Parameters")
        ].splitlines()
        if line.startswith("| `")
    }
    assert rows["| `used`"] == "[2, 4] float32"
    assert rows["| `spare`"] == "n/a (not called)"
    assert rows["| `count`"] == "no tensor"
