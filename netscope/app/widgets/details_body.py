"""The details text as a Line API view: a new selection repaints it and, as long as the text
fits the pane (or is as long as the last one), its virtual size stays put, so no screen layout."""

from __future__ import annotations

from rich.console import RenderableType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from netscope.app.widgets.frame_style import FrameStyle


class DetailsBody(FrameStyle, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    DetailsBody { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    # As in BlockTree: a longer text updates the scrollbar, not the whole screen's layout
    virtual_size = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted and self.container_size:
            self._scroll_update(size)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._renderable: RenderableType = ""
        self._lines: list[Strip] = []

    def show(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._render_lines()

    def on_resize(self) -> None:
        self._render_lines()

    def _render_lines(self) -> None:
        if not self.is_mounted or self.size.width <= 1:
            return
        width = self.size.width - 1  # room for the scrollbar, so a long text never rewraps
        options = self.app.console.options.update_width(width)
        lines = self.app.console.render_lines(self._renderable, options, style=self.rich_style)
        self._lines = [Strip(line, width) for line in lines]
        # At least the pane's height: texts shorter than the pane all share one virtual size
        size = Size(width, max(len(self._lines), self.size.height))
        if size != self.virtual_size:
            self.virtual_size = size
            self.scroll_to(y=0, animate=False, immediate=True)
        elif self.scroll_offset.y:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.size.width
        style = self.frame_style
        if 0 <= index < len(self._lines):
            return self._lines[index].crop_extend(0, width, style)
        return Strip.blank(width, style)
