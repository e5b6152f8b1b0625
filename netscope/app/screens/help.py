"""The ``?`` screen: every key, and what the markers mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from netscope.app.markers import MARKER_STYLES

Key = tuple[str, str]  # (the keys as the help shows them, what they do)
# the tree's keys and the help's, the same in the model app and netscope run's: defined once
MOVE: Key = ("↑ ↓  j k", "move in the tree")
EXPAND: Key = ("→ l / ← h", "expand / collapse (or go to child / parent)")
FILTER: Key = ("/", "filter the tree by name, class or marker; Escape clears")
COLUMN: Key = ("c", "tree figure: params → FLOPs → saved activations")
TOP: Key = ("b", "top blocks by FLOPs or saved activations; Enter jumps")
HELP: Key = ("?", "this help")

KEYS: tuple[Key, ...] = (
    MOVE,
    EXPAND,
    ("Enter Space", "toggle the block"),
    FILTER,
    ("n / N", "next / previous match"),
    ("t", "next member of the selected parameter's tie group"),
    COLUMN,
    TOP,
    ("p", "start / pause profiling"),
    ("e", "export a report (JSON, HTML, Markdown, Chrome trace)"),
    ("s", "save an SVG screenshot in the current directory"),
    ("Tab", "move focus: tree, details, live tabs"),
    HELP,
    ("q", "quit (stops the worker)"),
    ("Ctrl+C", "quit like q; exit status 130"),
)
# netscope run's app: the script's loop, live (no profiling or screenshot keys); each key once:
# the tab bar's arrows are told under Tab, which takes the focus there
RUN_KEYS: tuple[Key, ...] = (
    MOVE,
    EXPAND,
    FILTER,
    COLUMN,
    TOP,
    (
        "Tab",
        "move focus: tree, details, the tab bar (← → on the tab bar: Output, Blocks, "
        "Syncs, Copies, Compile, Models)",
    ),
    ("e", "export the run report (JSON, Markdown)"),
    HELP,
    ("q", "stop the script (as Ctrl+C in its terminal); once it ended, quit"),
    ("Ctrl+C", "stop like q; exit status 130"),
)
MEANINGS = {
    "custom": "user-defined block class",
    "shared": "the same block object used at several places or called more than once",
    "tied": "parameter shared with other names (counted once, gradients add up)",
    "lazy": "parameter or buffer uninitialized at build time (shape inferred by the first forward)",
    "unregistered": "tensor attribute that is neither parameter nor buffer",
    "unused": "parameter that got no gradient / block never called",
    "nan": "NaN or Inf values",
    "quantized": "quantized tensor (qint8...) or a quantized module's packed weight",
    "pruned": "weight pruned by torch.nn.utils.prune (weight = weight_orig * weight_mask)",
    "parametrized": "weight computed by a parametrization (weight_norm, orthogonal...)",
    "fsdp": "a block fully_shard (FSDP2) wrapped: it all-gathers its parameters as one unit",
    "tp": "a tensor-parallel block (parallelize_module: ColwiseParallel, RowwiseParallel...)",
    "sharded": "a DTensor parameter: this rank holds [local] of the [global] shape",
}


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 96; height: 90%; max-height: 34;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def __init__(self, keys: tuple[Key, ...] = KEYS) -> None:
        super().__init__()
        self.keys = keys  # the model app's, or netscope run's (RUN_KEYS)

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for key, what in self.keys:
            keys.add_row(key, Text(what))  # plain text: a [bracket] is not markup
        markers = Table.grid(padding=(0, 2))
        markers.add_column(no_wrap=True)
        markers.add_column()
        for marker, meaning in MEANINGS.items():
            markers.add_row(Text(marker, style=MARKER_STYLES[marker]), Text(meaning))
        with VerticalScroll() as scroll:
            scroll.border_title = "netscope help (Escape closes)"
            yield Static(keys, id="help-keys")
            yield Static(Text("\nMarkers", style="bold"), id="help-markers-title")
            yield Static(markers, id="help-markers")

    def action_close(self) -> None:
        self.dismiss(None)
