"""Self-contained HTML report: inline CSS and SVG, no network needed to read it.

A small model's report needs no script. Above ``LAZY_BLOCKS`` blocks (or ``LAZY_ROWS`` rows in a
table) the tree and the long tables are embedded once as JSON data and a short inline script
renders a node's children, or a table's rows, when it is expanded: 20,000 blocks would otherwise
be 16 MB of pre-rendered markup.
"""

from __future__ import annotations

import json
import re
from html import escape

from netscope.engine.model import Profile, Snapshot
from netscope.report.profile_tables import profile_tables, top_block_paths
from netscope.report.serialize import SCHEMA_VERSION
from netscope.report.svg import Bar, bar_chart, timing_chart
from netscope.report.tables import Table, block_label, snapshot_tables, summary
from netscope.report.values import fmt_bytes, fmt_ms
from netscope.units import params_phrase

OPEN_DEPTH = 2  # tree levels shown expanded
LAZY_BLOCKS = 2000  # above this the tree is JSON data rendered on expand
LAZY_ROWS = 1000  # a table with more rows is JSON data rendered when opened

# Renders the children of a <details data-node> (tree) or the rows of a <details data-table>.
SCRIPT = """
const tree=JSON.parse(document.getElementById('tree-data').textContent||'null');
function node(i){const n=tree.nodes[i];if(!n[1].length){const d=document.createElement('div');
d.className='leaf';d.innerHTML=n[0];return d}const d=document.createElement('details');
d.dataset.node=i;const s=document.createElement('summary');s.innerHTML=n[0];d.append(s);return d}
function fill(d){if(d.dataset.done)return;d.dataset.done=1;if(d.dataset.node!==undefined){
for(const c of tree.nodes[d.dataset.node][1])d.append(node(c))}else{
const t=JSON.parse(document.getElementById(d.dataset.table).textContent);
const b=d.querySelector('tbody');b.innerHTML=t.map(r=>'<tr>'+r+'</tr>').join('')}}
document.addEventListener('toggle',e=>{if(e.target.open)fill(e.target)},true);
document.querySelectorAll('details[open]').forEach(fill);
"""

CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f8}code{font-family:ui-monospace,monospace;font-size:.95em}
.note{color:#555}.tree{font-size:.9em}.tree details,.tree .leaf{margin-left:1.2em}
.tree summary{cursor:pointer}.type{color:#3b5b8c}.count{color:#666}
.error{color:#b00020}.warning{color:#a15c00}figure{margin:0 0 1.5em}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}tbody tr:hover{background:#eef3fb}
td.sev-error{color:#b00020;font-weight:600}td.sev-warning{color:#a15c00;font-weight:600}
.wide{overflow-x:auto;max-width:100%}.wide table{margin-bottom:.5em}
"""
# A figure alone in its cell: a count, a size, FLOPs or MACs, a rate, a time, a share ("<0.1%")
NUMBER = re.compile(
    r"^[<>]?-?[\d,]+(\.\d+)?(e[-+]?\d+)?"
    r"( ?([KMGTP]?i?B|[kMGTPE]?(FLOP|MAC)|[kMGTPE]?(FLOP|B)/s|ms|µs|s))?%?$"
)


def _cell(text: str, code: bool) -> str:
    body = escape(text)
    return f"<code>{body}</code>" if code and text else body


def _cell_class(text: str, is_severity: bool) -> str:
    """Numbers right-aligned so digits line up; warnings and errors coloured."""
    if is_severity and text in ("error", "warning"):
        return f' class="sev-{text}"'
    return ' class="num"' if NUMBER.match(text) else ""


def scroll(table: str) -> str:
    """A table in a box that scrolls sideways: a table wider than the page (long block paths,
    many columns) scrolls on its own instead of widening the whole page past the window."""
    return f'<div class="wide">{table}</div>'


def table_html(table: Table) -> str:
    parts = [f"<section><h2>{escape(table.title)}</h2>"]
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    if not table.rows:
        parts.append(f"<p>{escape(table.empty)}</p></section>")
        return "".join(parts)
    if len(table.rows) > LAZY_ROWS:
        return _lazy_table(table, parts)
    parts.append('<div class="wide"><table><thead><tr>')
    parts += [f"<th>{escape(h)}</th>" for h in table.headers]
    parts.append("</tr></thead><tbody>")
    severity = table.headers.index("Severity") if "Severity" in table.headers else None
    for row in table.rows:
        cells = "".join(
            f"<td{_cell_class(text, i == severity)}>{_cell(text, i in table.code)}</td>"
            for i, text in enumerate(row)
        )
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table></div>")
    if table.snippet:
        parts.append(f"<pre><code>{escape(table.snippet)}</code></pre>")
    parts.append("</section>")
    return "".join(parts)


def _script_json(data: object) -> str:
    """JSON safe inside <script>: no ``</`` can close the element."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def _lazy_table(table: Table, parts: list[str]) -> str:
    """The rows as JSON cell markup, put in the table when the reader opens it."""
    key = "table-" + re.sub(r"[^a-z0-9]+", "-", table.title.lower())
    severity = table.headers.index("Severity") if "Severity" in table.headers else None
    rows = [
        "".join(
            f"<td{_cell_class(text, i == severity)}>{_cell(text, i in table.code)}</td>"
            for i, text in enumerate(row)
        )
        for row in table.rows
    ]
    header = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    return "".join(parts) + (
        f'<details data-table="{key}"><summary>{len(rows):,} rows (shown when opened)</summary>'
        f'<div class="wide"><table><thead><tr>{header}</tr></thead><tbody></tbody></table>'
        "</div></details>"
        f'<script type="application/json" id="{key}">{_script_json(rows)}</script></section>'
    )


def _node_line(snapshot: Snapshot, path: str) -> str:
    block = snapshot.block_by_path[path]
    calls = "" if block.calls is None else f", {block.calls} call{'s' * (block.calls != 1)}"
    custom = " (custom)" if block.custom else ""
    counted = params_phrase(block.total_params, block.uninitialized_params)
    return (
        f"<code>{escape(block.name or block_label(path))}</code> "
        f'<span class="type">{escape(block.type)}{custom}</span> '
        f'<span class="count">{counted}{calls}</span>'
    )


def tree_html(snapshot: Snapshot) -> str:
    """The block tree as nested <details>, expanded to OPEN_DEPTH; works without JavaScript."""
    if not snapshot.blocks:
        return ""
    seen: set[str] = set()

    def node(path: str) -> str:
        seen.add(path)
        block = snapshot.block_by_path[path]
        kids = [c for c in block.children if c in snapshot.block_by_path and c not in seen]
        if not kids:
            return f'<div class="leaf">{_node_line(snapshot, path)}</div>'
        state = " open" if block.depth < OPEN_DEPTH else ""
        inner = "".join(node(child) for child in kids)
        return f"<details{state}><summary>{_node_line(snapshot, path)}</summary>{inner}</details>"

    root = snapshot.blocks[0].path
    if len(snapshot.blocks) > LAZY_BLOCKS:
        return _lazy_tree(snapshot, root)
    return f'<section><h2>Block tree</h2><div class="tree">{node(root)}</div></section>'


def _lazy_tree(snapshot: Snapshot, root: str) -> str:
    """Every node once, as [summary markup, child indices]; children rendered on expand."""
    order, kids_of, index = [root], {}, {root: 0}
    for path in order:  # breadth first; a shared block is listed under its first parent only
        kids = [c for c in snapshot.block_by_path[path].children if c in snapshot.block_by_path]
        kids_of[path] = [c for c in kids if c not in index]
        for child in kids_of[path]:
            index[child] = len(order)
            order.append(child)
    nodes = [[_node_line(snapshot, p), [index[c] for c in kids_of[p]]] for p in order]
    data = _script_json({"nodes": nodes})
    return (
        '<section><h2>Block tree</h2><div class="tree">'
        f'<details open data-node="0"><summary>{nodes[0][0]}</summary></details></div>'
        f'<script type="application/json" id="tree-data">{data}</script></section>'
    )


def _figure(caption: str, svg: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>" if svg else ""


def charts_html(profile: Profile) -> str:
    """Inline SVG charts: timing distribution, top blocks per device, copies, syncs."""
    parts = [
        _figure(
            "Step time per device: whisker min-max, box p10-p90, red median, dots: runs",
            timing_chart(profile.devices),
        )
    ]
    top = set(top_block_paths(profile, limit=12))
    for device in dict.fromkeys(b.device for b in profile.blocks):
        bars = [
            Bar(block_label(b.path), b.self_ms, fmt_ms(b.self_ms))
            for b in profile.blocks
            if b.device == device and b.path in top and b.self_ms is not None
        ]
        bars.sort(key=lambda bar: -bar.value)
        caption = f"Top blocks by self time on {device}"
        parts.append(_figure(caption, bar_chart(caption, bars)))
    copies = sorted(profile.copies, key=lambda c: -c.bytes)[:12]
    copy_bars = [
        Bar(
            f"{c.direction} {c.location or block_label(c.block)}",
            c.bytes,
            f"{fmt_bytes(c.bytes)} in {c.count}",
        )
        for c in copies
    ]
    caption = "Bytes copied between devices per step"
    parts.append(_figure(caption, bar_chart(caption, copy_bars)))
    syncs = sorted(profile.syncs, key=lambda s: -s.count)[:12]
    sync_bars = [
        Bar(f"{s.op} {s.location or block_label(s.block)}", s.count, f"{s.count}x") for s in syncs
    ]
    parts.append(_figure("Sync points per step", bar_chart("Sync points per step", sync_bars)))
    return "<section><h2>Charts</h2>" + "".join(parts) + "</section>"


def snapshot_html(snapshot: Snapshot) -> list[str]:
    """The model part of a report: its tables in reading order, the block tree before the
    Blocks table."""
    parts = []
    for table in snapshot_tables(snapshot):
        if table.title == "Blocks":
            parts.append(tree_html(snapshot))
        parts.append(table_html(table))
    return parts


def render_html(snapshot: Snapshot, profile: Profile | None = None) -> str:
    """The whole report as one HTML page."""
    title = f"netscope report: {snapshot.model_class}"
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>"
        for key, value in summary(snapshot)
    )
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>{scroll(f'<table>{rows}</table>')}",
    ]
    parts += snapshot_html(snapshot)
    if profile is not None:
        parts.append("<h1>Profile</h1>")
        parts += [table_html(t) for t in profile_tables(profile)]
        parts.append(charts_html(profile))
    if any('type="application/json"' in part for part in parts):
        parts.append(f"<script>{SCRIPT}</script>")
    parts.append(f'<p class="note">netscope report schema {SCHEMA_VERSION}</p></body></html>\n')
    return "\n".join(parts)
