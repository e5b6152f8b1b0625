"""``netscope diff A B`` end to end: JSON reports from files, the terminal table, -o .json .md
.html, errors as one line (exit 2), two targets reported on the fly in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from netscope.cli import main
from tests.diff.models import cnn_file, gpt2_file, save_report

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("diff")
    before = save_report(gpt2_file(folder, "a.py", layers=2), folder / "a.json")
    after = save_report(gpt2_file(folder, "b.py", layers=3), folder / "b.json")
    return before, after


def test_the_terminal_table_lists_the_changed_blocks_first(reports, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # a terminal wide enough for the table's columns
    assert main(["diff", *reports]) == 0
    out = capsys.readouterr().out
    assert out.startswith("netscope diff: A ")
    table = out[out.index("Blocks changed (by impact)") :]
    rows = [line.split()[0] for line in table.splitlines()[3:] if line.startswith("  ")]
    assert "transformer.h.2" in rows[:4]  # the new layer before its own children
    assert "transformer.h.1" not in table.split("Syncs and copies")[0]  # unchanged: not listed
    assert "params" in out and "+45.3%" in out


def test_json_markdown_and_html_outputs(reports, tmp_path: Path):
    assert main(["diff", *reports, "-o", str(tmp_path / "d.json")]) == 0
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["diff_schema_version"] == 1
    added = [b["path"] for b in data["blocks"] if b["status"] == "added"]
    assert added[0] == "transformer.h.2"
    assert data["totals"]["params"]["delta"] == 12704
    assert main(["diff", *reports, "-o", str(tmp_path / "d.md")]) == 0
    markdown = (tmp_path / "d.md").read_text()
    assert "## Blocks changed (by impact)" in markdown and "`transformer.h.2`" in markdown
    assert main(["diff", *reports, "-o", str(tmp_path / "d.html")]) == 0

    class Strict(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in ("meta", "br"):
                self.open.append(tag)

        def handle_endtag(self, tag):
            assert self.open.pop() == tag

        def handle_data(self, data):
            self.text.append(data)

    parser = Strict()
    parser.feed((tmp_path / "d.html").read_text())
    assert parser.open == [] and "transformer.h.2" in "".join(parser.text)


def test_a_file_that_is_not_a_report_is_one_line_of_error(reports, tmp_path: Path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert main(["diff", reports[0], str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a netscope report of schema 1" in err and "Traceback" not in err
    assert main(["diff", *reports, "-o", str(tmp_path / "d.txt")]) == 2
    assert "cannot tell the diff's format" in capsys.readouterr().err


def test_two_targets_reported_on_the_fly(tmp_path: Path):
    """Model files are reported with the options given (here --train), then compared."""
    before = cnn_file(tmp_path, "a.py")
    after = cnn_file(tmp_path, "b.py", moved=True, wider=True)
    out = tmp_path / "d.json"
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "diff", before, after, "--train", "-o", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    blocks = {b["path"]: b for b in data["blocks"]}
    assert blocks["trunk"]["status"] == "added"
    assert blocks["trunk.0"]["status"] == "added"  # wider: not the same structure as conv2
    assert blocks["conv2"]["status"] == "removed" and blocks["conv2"]["before_path"] == "conv2"
    assert data["totals"]["optimizer state"]["before"] is not None  # --train reached both
