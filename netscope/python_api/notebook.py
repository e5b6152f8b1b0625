"""The report in a Jupyter cell: the HTML report's own sections (summary, block tree as nested
``<details>``, tables, profile charts), inside one element whose styles touch nothing else."""

from __future__ import annotations

import re
from html import escape

from netscope.engine.model import Profile, Snapshot
from netscope.report.html import CSS, SCRIPT, charts_html, snapshot_html, table_html
from netscope.report.profile_tables import profile_tables
from netscope.report.serialize import SCHEMA_VERSION
from netscope.report.tables import summary

SCOPE = "netscope-report"


def scoped_css(css: str, scope: str = SCOPE) -> str:
    """The report's CSS with every selector under ``.scope`` (``body`` becomes the element), so
    a notebook's own page keeps its styles."""
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        scoped = []
        for selector in selectors.split(","):
            selector = selector.strip()
            scoped.append(f".{scope}" if selector == "body" else f".{scope} {selector}")
        rules.append(f"{','.join(scoped)}{{{body}}}")
    return "".join(rules)


def report_html(snapshot: Snapshot, profile: Profile | None = None) -> str:
    """One ``<div>`` with its own scoped ``<style>``: what ``_repr_html_`` returns."""
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>"
        for key, value in summary(snapshot)
    )
    parts = [
        f'<div class="{SCOPE}"><style>{scoped_css(CSS)}</style>',
        f"<h1>netscope report: {escape(snapshot.model_class)}</h1><table>{rows}</table>",
        *snapshot_html(snapshot),
    ]
    if profile is not None:
        parts.append("<h1>Profile</h1>")
        parts += [table_html(t) for t in profile_tables(profile)]
        parts.append(charts_html(profile))
    if any('type="application/json"' in part for part in parts):  # a large model's lazy tree
        parts.append(f"<script>{SCRIPT}</script>")
    parts.append(f'<p class="note">netscope report schema {SCHEMA_VERSION}</p></div>')
    return "\n".join(parts)
