"""The HTML report is self-contained, well-formed and readable without JavaScript."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from report_handmade import handmade_profile, handmade_snapshot

from netscope.report.html import render_html

VOID = {"meta", "br", "img", "input", "link", "hr", "circle", "rect", "line"}


class TagChecker(HTMLParser):
    """Checks that every opened element is closed in order; collects tags and text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag) -> None:
        if tag in VOID and (not self.stack or self.stack[-1] != tag):
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data) -> None:
        self.text.append(data)


def _parse(text: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert checker.stack == [], checker.stack
    return checker


def test_no_network_references_and_no_script() -> None:
    text = render_html(handmade_snapshot(), handmade_profile())
    # the SVG namespace names the vocabulary (a saved chart renders on its own); nothing loads it
    assert not re.search(r'https?://(?!www\.w3\.org/2000/svg")', text)
    assert 'xmlns="http://www.w3.org/2000/svg"' in text
    assert "<script" not in text and "<link" not in text and "@import" not in text


def test_parses_and_holds_every_section() -> None:
    checker = _parse(render_html(handmade_snapshot(), None))
    text = " ".join(checker.text)
    for title in ("Findings", "Block tree", "Parameters", "Buffers", "Tied parameters"):
        assert title in text
    for title in ("Unregistered tensors", "Checkpoint keys", "Checkpoint mismatches"):
        assert title in text
    assert "rand_weight" in text and "covered by tie" in text
    assert "details" in checker.tags and "summary" in checker.tags
    assert "svg" not in checker.tags  # no profile, no charts


def test_profile_adds_inline_svg_charts() -> None:
    checker = _parse(render_html(handmade_snapshot(), handmade_profile()))
    assert checker.tags.count("svg") == 5  # timing, top blocks on cpu and cuda:0, copies, syncs
    text = " ".join(checker.text)
    assert "Step time per device" in text and "Sync points" in text
    assert "would sync on CUDA" in text


def test_user_text_is_escaped() -> None:
    snapshot = handmade_snapshot()
    from dataclasses import replace

    evil = replace(snapshot, model_class="<b>Net</b>", target="a&b.py")
    text = render_html(evil, None)
    assert "<b>Net</b>" not in text and "&lt;b&gt;Net&lt;/b&gt;" in text
    _parse(text)


def test_numbers_align_right_and_warnings_stand_out() -> None:
    html = render_html(handmade_snapshot())
    assert re.search(r'<td class="num">[\d,]+</td>', html)  # parameter counts line up
    severities = set(re.findall(r'<td class="sev-(\w+)">', html))
    assert severities and severities <= {"error", "warning"}
    assert '<td class="num">[' not in html  # shapes are not numbers
