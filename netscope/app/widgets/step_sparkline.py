"""Step times as a rolling strip: one column per sample, newest on the right, two rows high.

Textual's Sparkline stretches however many samples there are over the full width, so the first
few look like wide blocks; here each sample keeps one cell and the strip scrolls as they come.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

_BARS = " ▁▂▃▄▅▆▇█"  # 0..8 eighths of one cell


class StepSparkline(Widget):
    DEFAULT_CSS = """
    StepSparkline { height: 2; color: $success; }
    """

    data: reactive[tuple[float, ...]] = reactive(())

    def render(self) -> Text:
        width = self.size.width
        values = self.data[-width:] if width > 0 else ()
        if not values:
            return Text("")
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        # 1..16 sixteenths over two rows; the window's fastest step still shows a sliver
        levels = [1 + round((v - low) / span * 15) for v in values]
        pad = " " * (width - len(values))
        top = pad + "".join(_BARS[max(0, n - 8)] for n in levels)
        bottom = pad + "".join(_BARS[min(8, n)] for n in levels)
        return Text(f"{top}\n{bottom}", no_wrap=True, overflow="crop")
