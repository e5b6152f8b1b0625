"""``python -m netscope.rank [--every N] (script.py | -m module) [args...]``: one rank.

Meant to be launched by torchrun (``torchrun ... -m netscope.rank train.py``) with
``NETSCOPE_COLLECTOR=HOST:PORT`` naming a ``netscope collect`` (or the ``netscope run
--nproc-per-node`` that started torchrun). The rank connects, says who it is (``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``GROUP_RANK`` from torchrun's environment, and the host), then
runs the script under netscope's agent exactly as ``netscope run`` does, streaming its records
over the connection. A collector that cannot be reached ends the rank at once with status 2 and
a message naming the address.
"""

from __future__ import annotations

import os
import socket
import sys

ENV = "NETSCOPE_COLLECTOR"
CONNECT_TIMEOUT_S = 10.0


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def _connect(address: str) -> socket.socket:
    host, port = parse_address(address)
    sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def main(argv: list[str]) -> int:
    usage = "usage: python -m netscope.rank [--every N] (script.py | -m module) [args ...]"
    address = os.environ.get(ENV)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"{usage}\n(under torchrun, with {ENV}=HOST:PORT of `netscope collect`)")
        return 0 if argv else 2
    if not address:
        print(
            f"netscope: error: {ENV} is not set (HOST:PORT of `netscope collect`)", file=sys.stderr
        )
        return 2
    every: list[str] = []
    if argv[0] == "--every" and len(argv) > 1:
        every, argv = argv[:2], argv[2:]
    if argv[:1] == ["-m"] and len(argv) > 1:
        target = ["--module", argv[1], *argv[2:]]
    elif argv and not argv[0].startswith("-"):
        target = ["--script", *argv]
    else:
        print(usage, file=sys.stderr)
        return 2
    rank = _int_env("RANK", 0)
    try:
        sock = _connect(address)
    except (OSError, ValueError) as exc:
        reason = (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or "timed out"
        )
        print(
            f"netscope: error: rank {rank} cannot reach the netscope collector at {address} "
            f"({ENV}): {reason}",
            file=sys.stderr,
        )
        return 2

    from netscope.engine.run import child
    from netscope.engine.run.channel import Sender
    from netscope.engine.run.rank_messages import RankHello
    from netscope.engine.run.rank_watcher import RankWatcher

    fd = sock.detach()  # the Sender owns the descriptor from here on
    Sender(fd).send(
        RankHello(
            rank=rank,
            local_rank=_int_env("LOCAL_RANK", 0),
            world_size=_int_env("WORLD_SIZE", 1),
            host=socket.gethostname(),
            node_rank=_int_env("GROUP_RANK", 0),
            pid=os.getpid(),
        )
    )
    return child.main([str(fd), *every, *target], watcher_class=RankWatcher)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
