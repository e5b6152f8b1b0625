"""Choose a report format and write the file atomically: a failed run never leaves half a file.

The text goes to a temporary file in the destination's folder (same filesystem), is flushed and
fsynced, then ``os.replace``d over the destination. Any failure removes the temporary file and
leaves a previous report untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO, TypeVar

from netscope.engine.errors import NetscopeError
from netscope.engine.gc_hold import gc_paused

if TYPE_CHECKING:  # the parent process never loads the data model for these
    from netscope.engine.model import Profile, Snapshot

FORMATS = ("json", "markdown", "html", "chrome-trace")  # the one list: CLI, app and writer
LABELS = {"json": "JSON", "markdown": "Markdown", "html": "HTML", "chrome-trace": "Chrome trace"}
SUFFIXES = {"json": ".json", "markdown": ".md", "html": ".html", "chrome-trace": ".trace.json"}
ALIASES = {"md": "markdown", "htm": "html", "chrome": "chrome-trace", "trace": "chrome-trace"}
EXTENSIONS = (  # longest first: ".trace.json" must win over ".json"
    (".trace.json", "chrome-trace"),
    (".chrome.json", "chrome-trace"),
    (".json", "json"),
    (".markdown", "markdown"),
    (".md", "markdown"),
    (".html", "html"),
    (".htm", "html"),
)


def _formats_text() -> str:
    by_format: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS:
        by_format.setdefault(fmt, []).append(ext)
    return ", ".join(f"{fmt} ({' '.join(by_format[fmt])})" for fmt in FORMATS)


def resolve_format(path: str, fmt: str | None) -> str:
    """The report format: ``fmt`` when given, else from the file name's extension.

    Also fails early when the destination cannot be written (its folder is missing or is a file),
    so a long snapshot or profile is not wasted on a report that cannot be saved.
    """
    _check_folder(path)
    if fmt:
        name = ALIASES.get(fmt.lower(), fmt.lower())
        if name not in FORMATS:
            raise NetscopeError(
                f"unknown report format {fmt!r}", hint=f"Formats: {_formats_text()}."
            )
        return name
    lowered = os.path.basename(path).lower()
    for ext, name in EXTENSIONS:
        if lowered.endswith(ext):
            return name
    raise NetscopeError(
        f"cannot tell the report format from the file name {path!r}",
        path=path,
        hint=f"Use one of these extensions or --format: {_formats_text()}.",
    )


def _writer(fmt: str, snapshot: Snapshot, profile: Profile | None) -> Callable[[BinaryIO], None]:
    if fmt == "json":
        from netscope.report.json_report import write_json

        return lambda stream: write_json(snapshot, profile, stream)
    if fmt == "markdown":
        from netscope.report.markdown import render_markdown

        return lambda stream: _write(stream, render_markdown(snapshot, profile))
    if fmt == "html":
        from netscope.report.html import render_html

        return lambda stream: _write(stream, render_html(snapshot, profile))
    if profile is None:
        raise NetscopeError(
            "a chrome-trace report needs a profile",
            hint="Profile the model: netscope report TARGET --profile -o FILE.trace.json",
        )
    from netscope.report.chrome_trace import render_chrome_trace

    return lambda stream: _write(stream, render_chrome_trace(snapshot, profile))


def _write(stream: BinaryIO, text: str) -> None:
    stream.write(text.encode())


def _check_folder(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise NetscopeError(f"cannot write the report: {path} is a folder", path=path)
    if not os.path.exists(folder):
        probe = folder
        while probe and not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if probe and not os.path.isdir(probe):
            why = f"{probe} is a file, not a folder"
        else:
            why = f"the folder {folder} does not exist"
        raise NetscopeError(f"cannot write the report: {why}", path=path)
    if not os.path.isdir(folder):
        raise NetscopeError(f"cannot write the report: {folder} is a file, not a folder", path=path)
    return folder


def _fsync_folder(folder: str) -> None:
    """Make the rename durable; not every platform can open a folder, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[TextIO], None]) -> str:
    """Run ``write`` on a UTF-8 text temp file next to ``path``, then rename it over ``path``."""
    return _atomic(path, lambda fd: os.fdopen(fd, "w", encoding="utf-8", newline="\n"), write)


def atomic_write_bytes(path: str, write: Callable[[BinaryIO], None]) -> str:
    """``atomic_write`` for a writer of bytes (a JSON report: orjson's, not decoded first)."""
    return _atomic(path, lambda fd: os.fdopen(fd, "wb"), write)


_Stream = TypeVar("_Stream", bound=IO[Any])


def _atomic(path: str, open_fd: Callable[[int], _Stream], write: Callable[[_Stream], None]) -> str:
    folder = _check_folder(path)
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise NetscopeError(f"cannot write the report: {exc.strerror or exc}", path=path) from exc
    try:
        stream = open_fd(fd)
        with stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise NetscopeError(f"cannot write the report: {exc.strerror or exc}", path=path) from exc
    except BaseException:
        _remove(temp)
        raise
    _fsync_folder(folder)
    return path


def _remove(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def write_report(
    path: str, snapshot: Snapshot, profile: Profile | None = None, fmt: str | None = None
) -> str:
    """Write the report in ``fmt`` (or the format the extension names); returns the path."""
    fmt = resolve_format(path, fmt)
    with gc_paused():  # a large model's report makes hundreds of thousands of dicts
        return atomic_write_bytes(path, _writer(fmt, snapshot, profile))
