"""Textual's Header, except that a new title or sub-title repaints one line instead of laying
out the whole screen: the title's cell is always the header's width, so its size never changes.
The sub-title changes on every `n`/`N` ("match 3/100"), and a full layout of a 10,000-row
screen on each of those keys was the slowest frame of the app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.visual import VisualType
from textual.widgets import Header

from netscope.app.textual_internals import HeaderClockSpace, HeaderIcon, HeaderTitle


class QuietTitle(HeaderTitle):
    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        super().update(content, layout=False)


class QuietHeader(Header):
    def compose(self) -> ComposeResult:
        yield HeaderIcon().data_bind(Header.icon)
        yield QuietTitle()
        yield HeaderClockSpace()
