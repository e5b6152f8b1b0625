"""The netscope end of every rank's connection: a listening socket and one reader per rank.

Each rank (``python -m netscope.rank`` under torchrun) connects and sends length-prefixed frames
(``channel.py``) whose first is ``RankHello``. ``poll`` returns ``(hello, message)`` pairs in
arrival order; ``(hello, None)`` when that rank's connection closed. A connection that does not
start with a hello is dropped.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from typing import Any

from netscope.engine.run.channel import receive
from netscope.engine.run.messages import RunNote
from netscope.engine.run.rank_messages import RankHello

CLOSED = None


class RankServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requested = (host, port)
        self._server: socket.socket | None = None
        self._queue: queue.Queue[tuple[RankHello, Any]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self.address = f"{host}:{port}"

    def start(self) -> str:
        """Listen; returns HOST:PORT as the ranks should dial it. OSError names the address."""
        host, port = self.requested
        try:
            server = socket.create_server((host, port), backlog=128, reuse_port=False)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self._server = server
        self.address = f"{host}:{server.getsockname()[1]}"
        self._spawn(self._accept, server)
        return self.address

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name="netscope-collector", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._connections.append(connection)
            self._spawn(self._read, connection)

    def _read(self, connection: socket.socket) -> None:
        fd = connection.fileno()
        hello: RankHello | None = None
        try:
            first = receive(fd)
            if not isinstance(first, RankHello):
                return
            hello = first
            self._queue.put((hello, first))
            while True:
                self._queue.put((hello, receive(fd)))
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a frame that cannot be read: say so, keep the rest
            if hello is not None:
                self._queue.put((hello, RunNote(f"netscope lost its link to the rank: {exc}")))
        finally:
            with contextlib.suppress(OSError):
                connection.close()
            if hello is not None:
                self._queue.put((hello, CLOSED))

    def poll(self, timeout: float) -> tuple[RankHello, Any] | None:
        try:
            return self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            with contextlib.suppress(OSError):
                self._server.close()
            self._server = None
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
