"""The plain table every human-readable report section is made of (Markdown and HTML render
it); below tables.py and compute_tables.py, which both build them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A titled table of text cells; ``code`` columns are rendered as code (names, paths)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    code: set[int] = field(default_factory=set)
    empty: str = "None."
    snippet: str = ""  # Python code to paste, shown after the table (--checkpoint's choice)


def block_label(path: str) -> str:
    return path if path else "(root)"
