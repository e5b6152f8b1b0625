"""The script's process: ``python -m netscope.engine.run.child FD [--every N] (--script PATH |
--module NAME) [ARGS...]``.

Installs the watcher, then runs the script as ``__main__`` with runpy (its argv, its folder first
on ``sys.path`` as ``python script.py`` does; the current folder for ``-m``), and exits the way
Python would: the script's ``sys.exit`` code, 1 and a traceback (starting at the script's frame)
for an exception, 130 and the script's frames for Ctrl+C, 2 for a missing file. The watcher's
last message says how it ended; then the interpreter shuts down normally, so the script's
``atexit`` handlers run.
"""

from __future__ import annotations

import functools
import os
import runpy
import signal
import sys
import time
import traceback
from types import TracebackType

from netscope.engine.errors import display_path, is_internal_file, without_machinery
from netscope.engine.model import ScriptError
from netscope.engine.run.channel import Sender
from netscope.engine.run.messages import RunNote, RunStarted, ScriptEnded

REPEAT_SIGINT_S = 0.5  # a second SIGINT this soon is the same Ctrl+C (terminal and netscope)
_RUNPY = os.path.abspath(runpy.__file__)


def _own_frame(filename: str) -> bool:
    return os.path.abspath(filename) == _RUNPY or is_internal_file(filename)


def _script_traceback(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the script's first frame on (runpy and netscope left out)."""
    while tb is not None and _own_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


@functools.cache
def _stdlib_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(os.path.abspath(paths[k]) + os.sep for k in ("stdlib", "platstdlib"))


def _script_location(exc: BaseException, script: str | None) -> str | None:
    """The innermost frame in the script itself, else in any user file (not torch, netscope,
    the standard library or an installed package)."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{display_path(exc.filename)}:{exc.lineno}"
    wanted = os.path.abspath(script) if script else None
    for frame, line in reversed(frames):
        if wanted and os.path.abspath(frame.f_code.co_filename) == wanted:
            return f"{display_path(frame.f_code.co_filename)}:{line}"
    for frame, line in reversed(frames):
        name = frame.f_code.co_filename
        if _users_file(name):
            return f"{display_path(name)}:{line}"
    return None


def _users_file(filename: str) -> bool:
    """A file the user wrote: not torch's, netscope's, the standard library's or a package's."""
    absolute = os.path.abspath(filename)
    return not (
        _own_frame(filename) or "site-packages" in absolute or absolute.startswith(_stdlib_dirs())
    )


def _interrupted_text(exc: BaseException) -> str:
    """A Ctrl+C's traceback in the user's frames only: where the script was, not the netscope
    or torch frames it happened to be in (a hook of the watcher's, an optimizer step)."""
    frames = traceback.extract_tb(_script_traceback(exc.__traceback__))
    if any(_users_file(frame.filename) for frame in frames):
        while not _users_file(frames[-1].filename):  # a hook, torch, threading: not where it was
            frames.pop()
    head = "Traceback (most recent call last):\n" if frames else ""
    body = "".join(traceback.format_list(frames))
    return head + body + "".join(traceback.format_exception_only(type(exc), exc))


def _print_traceback(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        text = _interrupted_text(exc)
    else:
        tb = _script_traceback(exc.__traceback__)
        report = traceback.TracebackException(type(exc), exc, tb)
        text = "".join(without_machinery(report).format())
    sys.stderr.write(text)
    sys.stderr.flush()
    return text


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF  # as the shell sees it
    print(code, file=sys.stderr)
    return 1


class _Signals:
    """SIGINT raises KeyboardInterrupt once per Ctrl+C; SIGTERM ends the script like sys.exit."""

    def __init__(self) -> None:
        self.last_sigint = 0.0
        self.stopped = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._sigint)
        signal.signal(signal.SIGTERM, self._sigterm)

    def _sigint(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if now - self.last_sigint < REPEAT_SIGINT_S:
            return
        self.last_sigint = now
        self.stopped = True
        raise KeyboardInterrupt

    def _sigterm(self, signum: int, frame: object) -> None:
        self.stopped = True
        raise SystemExit(128 + signal.SIGTERM)


def _parse(argv: list[str]) -> tuple[int, int | None, bool, str, list[str]]:
    fd = int(argv[0])
    rest = argv[1:]
    every = None
    if rest[:1] == ["--every"]:
        every = int(rest[1])
        rest = rest[2:]
    kind, target, args = rest[0], rest[1], rest[2:]
    return fd, every, kind == "--module", target, args


def main(argv: list[str], watcher_class: type | None = None) -> int:
    """``watcher_class``: a Watcher subclass (a rank's, under torchrun); default Watcher."""
    fd, every, as_module, target, args = _parse(argv)
    sender = Sender(fd)
    shown = [*(["-m"] if as_module else []), target, *args]
    sender.send(RunStarted(tuple(shown), os.getpid()))
    signals = _Signals()
    signals.install()
    script = None if as_module else target
    if script is not None and not os.path.isfile(script):
        message = (
            f"can't open file {os.path.abspath(script)!r}: [Errno 2] No such file or directory"
        )
        print(f"{sys.executable}: {message}", file=sys.stderr)
        sender.send(ScriptEnded(2, ScriptError("FileNotFoundError", message, None)))
        sender.close()
        return 2

    from netscope.engine.run.watcher import Watcher
    from netscope.engine.snapshot.classes import read_class_lines

    watcher = (watcher_class or Watcher)(sender, display_path(script) if script else target, every)
    watcher.install()
    code, error = 0, None
    try:
        if as_module:
            sys.argv = [target, *args]
            sys.path[0] = os.getcwd()
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            assert script is not None  # a script path when not a module
            # the script's __file__ is absolute, as `python script.py` sets it since 3.9 (a
            # script that chdirs and then opens a file next to itself still finds it)
            path = os.path.abspath(script)
            read_class_lines(path)  # a model class of the script: found without a parse in-loop
            sys.argv = [script, *args]
            sys.path[0] = os.path.dirname(path)
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt as exc:
        text = _print_traceback(exc)
        code = 130
        error = ScriptError("KeyboardInterrupt", "interrupted", _script_location(exc, script), text)
    except BaseException as exc:  # the script may raise anything
        text = _print_traceback(exc)
        code = 1
        error = ScriptError(type(exc).__name__, str(exc), _script_location(exc, script), text)
        if isinstance(exc, ImportError) and as_module and exc.name == target:
            code = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the report is being sent: no second Ctrl+C
    try:
        watcher.finish()
    except Exception as exc:  # the script's status matters more than netscope's last words
        sender.send(RunNote(f"netscope could not finish its records: {exc}"))
    sender.send(ScriptEnded(code, error, stopped=signals.stopped))
    sender.close()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
