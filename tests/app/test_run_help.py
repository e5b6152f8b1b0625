"""netscope run's help (``?``, Textual's Pilot over a real run of a short script): each key is
listed once, and the rows it shares with the model app's help read the same."""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from textual.widgets import Static

from netscope.app.run_app import RunApp
from netscope.app.screens.help import KEYS, HelpScreen
from netscope.engine.run.session import RunSession

SHARED = ("↑ ↓  j k", "→ l / ← h", "/", "c", "b", "?")  # the tree's keys and the help's


def _keys(label: str) -> list[str]:
    """``→ l / ← h`` -> ``→ l ← h``; ``/`` (the filter key) is a key itself."""
    return [label] if label == "/" else [k for k in label.split() if k != "/"]


async def test_the_run_help_lists_each_key_once_as_the_model_help_does(tmp_path, monkeypatch):
    (tmp_path / "quick.py").write_text("print('done')\n")
    monkeypatch.chdir(tmp_path)
    session = RunSession("quick.py", capture_output=True, system=False)
    app = RunApp(session)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            table = app.screen.query_one("#help-keys", Static).content
            assert isinstance(table, Table)
            labels = [str(cell) for cell in table.columns[0].cells]
            about = [str(cell) for cell in table.columns[1].cells]
            twice = [
                k for k, n in Counter(k for lab in labels for k in _keys(lab)).items() if n > 1
            ]
            assert twice == [], labels
            shown = dict(zip(labels, about, strict=True))
            model_help = dict(KEYS)
            assert {label: shown[label] for label in SHARED} == {
                label: model_help[label] for label in SHARED
            }
            assert "← → on the tab bar: Output, Blocks, Syncs" in shown["Tab"]
            await pilot.press("escape")
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        session.close()
