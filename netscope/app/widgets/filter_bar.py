"""The ``/`` prompt: filter the tree by name, class or marker; Enter applies, Escape clears."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar { dock: bottom; display: none; height: 3; }
    """
    BINDINGS = [Binding("escape", "clear", "Clear filter")]

    class Applied(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    def __init__(self, **kwargs) -> None:
        super().__init__(
            placeholder="filter: name, class or marker (tied lazy custom shared unused nan "
            "unregistered quantized pruned parametrized)",
            **kwargs,
        )

    def open(self) -> None:
        self.display = True  # inline style and direct focus: the very next key lands here
        self.screen.set_focus(self)

    def close(self) -> None:
        self.display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Applied(self.value.strip()))

    def action_clear(self) -> None:
        self.value = ""
        self.close()
        self.post_message(self.Applied(""))
