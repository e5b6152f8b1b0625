"""Format resolution and atomic writes: a failed run never leaves half a file."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from report_handmade import handmade_profile, handmade_snapshot

from netscope.engine.errors import NetscopeError
from netscope.engine.model import Finding
from netscope.report.write import resolve_format, write_report


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("out.json", "json"),
        ("OUT.JSON", "json"),
        ("out.markdown", "markdown"),
        ("out.html", "html"),
        ("out.htm", "html"),
        ("run.trace.json", "chrome-trace"),
        ("run.chrome.json", "chrome-trace"),
    ],
)
def test_format_from_extension(name: str, expected: str) -> None:
    assert resolve_format(name, None) == expected


def test_dotted_folder_does_not_confuse_the_extension(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    assert resolve_format(str(tmp_path / "dir.json" / "out.md"), None) == "markdown"


def test_unwritable_destination_fails_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(NetscopeError, match="is a file, not a folder"):
        resolve_format(str(blocker / "out.json"), None)


def test_explicit_format_wins_and_aliases() -> None:
    assert resolve_format("out.txt", "json") == "json"
    assert resolve_format("out.json", "chrome-trace") == "chrome-trace"
    assert resolve_format("out", "md") == "markdown"


def test_unknown_format_lists_the_formats() -> None:
    with pytest.raises(NetscopeError) as info:
        resolve_format("report.txt", None)
    text = str(info.value)
    assert "report.txt" in text
    for fmt in ("json", "markdown", "html", "chrome-trace", ".trace.json"):
        assert fmt in text
    with pytest.raises(NetscopeError, match="unknown report format 'pdf'"):
        resolve_format("out.json", "pdf")


@pytest.mark.parametrize("name", ["r.json", "r.md", "r.html", "r.trace.json"])
def test_writes_every_format(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    written = write_report(str(target), handmade_snapshot(), handmade_profile(), None)
    assert written == str(target)
    assert target.stat().st_size > 0
    assert os.listdir(tmp_path) == [name]


def _unserializable_snapshot():
    """A finding whose message is no string: json.dump fails halfway through the file."""
    snapshot = handmade_snapshot()
    bad = Finding("error", "broken", object(), "x")  # type: ignore[arg-type]
    return replace(snapshot, findings=(*snapshot.findings, bad))


def test_failing_serializer_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_report(str(target), handmade_snapshot(), None, None)
    good = target.read_text()
    with pytest.raises(TypeError):
        write_report(str(target), _unserializable_snapshot(), None, None)
    assert target.read_text() == good
    json.loads(good)
    assert os.listdir(tmp_path) == ["report.json"]


def test_failing_first_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_report(str(tmp_path / "new.json"), _unserializable_snapshot(), None, None)
    assert os.listdir(tmp_path) == []


def test_replaces_an_existing_report_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o640)
    write_report(str(target), handmade_snapshot(), None, None)
    assert target.read_text().startswith("# netscope report")
    assert target.stat().st_mode & 0o777 == 0o640


def test_path_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    path = str(blocker / "sub" / "report.json")
    with pytest.raises(NetscopeError) as info:
        write_report(path, handmade_snapshot(), None, None)
    assert path in str(info.value) and "is a file, not a folder" in str(info.value)
    assert info.value.path == path


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "nope" / "report.html")
    with pytest.raises(NetscopeError, match="does not exist") as info:
        write_report(path, handmade_snapshot(), None, None)
    assert path in str(info.value)


def test_folder_as_output_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "out.json"
    folder.mkdir()
    with pytest.raises(NetscopeError, match="is a folder"):
        write_report(str(folder), handmade_snapshot(), None, None)


def test_chrome_trace_needs_a_profile(tmp_path: Path) -> None:
    with pytest.raises(NetscopeError, match="needs a profile") as info:
        write_report(str(tmp_path / "t.trace.json"), handmade_snapshot(), None, None)
    assert "--profile" in str(info.value)
    assert os.listdir(tmp_path) == []
