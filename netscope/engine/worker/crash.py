"""Reading what a dead worker left behind: its log's tail, the user's line in a crash dump, and
what its exit code means. Paths only: the parent never imports torch to read a crash.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import signal
import sysconfig

from netscope.engine.errors import display_path

TAIL_LINES = 30
SIGNAL_MEANING = {
    signal.SIGSEGV: "crashed (segmentation fault in native code)",
    signal.SIGABRT: "aborted (native code called abort)",
    signal.SIGKILL: "was killed (SIGKILL: the system's out-of-memory killer does this)",
    signal.SIGTERM: "was terminated (SIGTERM)",
    signal.SIGBUS: "crashed (bus error in native code)",
    signal.SIGFPE: "crashed (floating point exception in native code)",
}


def read_tail(path: str, lines: int = TAIL_LINES, max_bytes: int = 64 * 1024) -> str:
    """The last ``lines`` lines of a text file ("" when unreadable)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


_DUMP_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def _prefixes(dirs: list[str]) -> tuple[str, ...]:
    return tuple(os.path.abspath(d) + os.sep for d in dirs)


@functools.cache
def _folders() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Folder prefixes of (netscope and torch, installed libraries, the standard library)."""
    own = [os.path.dirname(os.path.abspath(__file__)).rsplit(os.sep, 2)[0]]
    spec = importlib.util.find_spec("torch")
    if spec is not None and spec.submodule_search_locations:
        own.extend(spec.submodule_search_locations)
    paths = sysconfig.get_paths()
    libraries = [paths["purelib"], paths["platlib"]]
    return _prefixes(own), _prefixes(libraries), _prefixes([paths["stdlib"], paths["platstdlib"]])


def _is_user_file(filename: str) -> bool:
    """Outside torch, netscope and the standard library (site-packages libraries count as user).

    Decided from paths alone: the parent must not import torch to read a crash dump.
    """
    if filename.startswith("<"):
        return False
    own, libraries, stdlib = _folders()
    absolute = os.path.abspath(filename)
    if absolute.startswith(own):
        return False
    return absolute.startswith(libraries) or not absolute.startswith(stdlib)


def crash_location(tail: str) -> str | None:
    """The user's ``file.py:LINE`` in a fault handler dump (most recent call first), or None."""
    for match in _DUMP_FRAME.finditer(tail):
        if _is_user_file(match["file"]):
            return f"{display_path(match['file'])}:{match['line']}"
    return None


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"was killed by signal {-code}"
        return SIGNAL_MEANING.get(sig, f"was killed by {sig.name}")
    return f"exited with code {code} before reporting a result"
