"""The widget's style looked up once a frame, not once a line: Textual's ``render_line`` asks for
``rich_style`` on every line and each lookup walks the DOM (a fifth of a tree row's render time in
a profile of the key-latency benchmark). Mixed into the tree and the details body."""

from __future__ import annotations

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip


class FrameStyle:
    """Put before the Textual widget class: ``class BlockTree(FrameStyle, Tree[...])``."""

    _frame_style: Style | None = None  # the widget's style while a frame renders
    rich_style: Style  # the widget's own (Textual)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_style = self.rich_style
        try:
            lines: list[Strip] = super().render_lines(crop)  # type: ignore[misc]
            return lines
        finally:
            self._frame_style = None

    @property
    def frame_style(self) -> Style:
        """The style of the frame being rendered (looked up now outside a frame)."""
        return self._frame_style if self._frame_style is not None else self.rich_style
