"""The Report object: typed access, to_dict() = the JSON file, save() by extension, __str__ in
100 columns, _repr_html_() as well-formed HTML with the collapsible tree."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

import netscope
from netscope.engine.errors import NetscopeError
from netscope.engine.model import BlockInfo
from tests.api.helpers import imported

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


@pytest.fixture(scope="module")
def report() -> netscope.Report:
    module = imported("gpt2_tiny")
    return netscope.inspect(module.build_model(), **module.example_input())


def test_typed_access_to_the_engines_data(report: netscope.Report) -> None:
    block = report.block("transformer.h.0")
    assert isinstance(block, BlockInfo) and block.type == "GPT2Block"
    assert block.children == tuple(f"transformer.h.0.{c}" for c in ("ln_1", "attn", "ln_2", "mlp"))
    assert report.compute is not None
    assert report.compute.forward_flops == report.to_dict()["compute"]["forward_flops"] > 0
    assert report.block("").total_params == report.total_params
    with pytest.raises(KeyError, match=r"transformer\.h\.0"):
        report.block("h.0")


def test_to_dict_is_the_saved_json(report: netscope.Report, tmp_path: Path) -> None:
    path = report.save(str(tmp_path / "r.json"))
    assert json.loads(Path(path).read_text()) == report.to_dict()
    assert report.to_dict()["schema_version"] == 1


@pytest.mark.parametrize(
    ("suffix", "starts"),
    [(".md", "# netscope report"), (".html", "<!DOCTYPE html>"), (".json", "{")],
)
def test_save_by_extension(
    report: netscope.Report, tmp_path: Path, suffix: str, starts: str
) -> None:
    path = tmp_path / f"report{suffix}"
    assert report.save(str(path)) == str(path)
    assert path.read_text().startswith(starts)


def test_save_errors_are_netscopes_clear_ones(report: netscope.Report, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("keep")
    with pytest.raises(NetscopeError, match="cannot write the report"):
        report.save(str(blocker / "r.json"))
    with pytest.raises(NetscopeError, match="needs a profile"):
        report.save(str(tmp_path / "r.trace.json"))
    with pytest.raises(NetscopeError, match="cannot tell the report format"):
        report.save(str(tmp_path / "r.txt"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_str_is_a_summary_in_100_columns(report: netscope.Report) -> None:
    text = str(report)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0] == "netscope report: GPT2LMHeadModel"
    assert any(line.startswith("FLOPs forward") for line in lines)
    assert any(line.startswith("Memory: peak") for line in lines)
    assert f"{report.total_params:,}" in text


class _Checker(HTMLParser):
    """Every non-void element closed in order; counts what the report must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_repr_html_is_well_formed_with_the_collapsible_tree(report: netscope.Report) -> None:
    markup = report._repr_html_()
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert markup.startswith('<div class="netscope-report">')
    assert "<html" not in markup and "<body" not in markup  # a fragment for a notebook cell
    assert checker.counts["details"] >= len([b for b in report.blocks if b.children])
    assert checker.counts["summary"] == checker.counts["details"]
    text = "".join(checker.text)
    assert all(name in text for name in ("lm_head", "wte", "c_attn", "GPT2Block", "Tied"))
    style = markup.split("<style>", 1)[1].split("</style>", 1)[0]
    rules = [rule.split("{")[0] for rule in style.split("}") if rule]
    assert all(s.strip().startswith(".netscope-report") for r in rules for s in r.split(","))


def test_to_dict_validates_against_the_json_schema(report: netscope.Report) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert [error.message for error in validator.iter_errors(report.to_dict())] == []
