"""Hand-written inline SVG charts for the HTML report: no JavaScript, no network, no library."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from netscope.engine.model import TimingSummary
from netscope.report.values import fmt_ms

WIDTH = 720
LABEL_WIDTH = 260
ROW_HEIGHT = 22
BAR_COLOR = "#3b7dd8"
BOX_COLOR = "#8fb5ea"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown next to the bar


def _svg(height: int, body: list[str], title: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>"
    )
    return head + "".join(body) + "</svg>"


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


def bar_chart(title: str, bars: list[Bar]) -> str:
    """Horizontal bars, largest scale first; empty input gives an empty string."""
    if not bars:
        return ""
    top = max((b.value for b in bars), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - 110
    body = []
    for row, bar in enumerate(bars):
        y = row * ROW_HEIGHT + 4
        width = max(1.0, span * max(bar.value, 0.0) / top)
        body.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{ROW_HEIGHT - 8}" '
            f'fill="{BAR_COLOR}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 14}">{escape(bar.text)}</text>'
        )
    return _svg(len(bars) * ROW_HEIGHT + 8, body, title)


def _x(value: float, low: float, high: float, left: float, span: float) -> float:
    return left + span * ((value - low) / (high - low) if high > low else 0.5)


def timing_chart(timings: tuple[TimingSummary, ...]) -> str:
    """One row per device: min-max whisker, p10-p90 box, median tick and every timed run as a dot.

    Each row has its own scale (a GPU step may be 100x shorter than the CPU's); the ends are
    labelled with min and max.
    """
    if not timings:
        return ""
    row_h, left, span = 44, 90, WIDTH - 90 - 150
    body = []
    for row, t in enumerate(timings):
        y = row * row_h + 22
        low, high = t.min_ms, t.max_ms
        pos = [_x(v, low, high, left, span) for v in (t.min_ms, t.p10_ms, t.median_ms)]
        p90, xmax = _x(t.p90_ms, low, high, left, span), _x(t.max_ms, low, high, left, span)
        body.append(
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{escape(t.device)}</text>'
            f'<line x1="{pos[0]:.1f}" y1="{y}" x2="{xmax:.1f}" y2="{y}" stroke="#555"/>'
            f'<rect x="{pos[1]:.1f}" y="{y - 9}" width="{max(p90 - pos[1], 1):.1f}" height="18" '
            f'fill="{BOX_COLOR}" stroke="#555"/>'
            f'<line x1="{pos[2]:.1f}" y1="{y - 11}" x2="{pos[2]:.1f}" y2="{y + 11}" '
            f'stroke="#c0392b" stroke-width="2"><title>median {escape(fmt_ms(t.median_ms))}'
            "</title></line>"
        )
        body += [
            f'<circle cx="{_x(s, low, high, left, span):.1f}" cy="{y + 15}" r="1.6" fill="#333"/>'
            for s in t.samples_ms
        ]
        body.append(
            f'<text x="{pos[0]:.1f}" y="{y - 12}" font-size="10">{escape(fmt_ms(low))}</text>'
            f'<text x="{xmax:.1f}" y="{y - 12}" font-size="10" text-anchor="end">'
            f"{escape(fmt_ms(high))}</text>"
            f'<text x="{WIDTH - 140}" y="{y + 4}">median {escape(fmt_ms(t.median_ms))}</text>'
        )
    return _svg(len(timings) * row_h + 14, body, "Step time distribution per device")
