"""``python -m onebox.lab.relay``: TCP forwarding between this machine's loopback and the lab's namespace loopback.

Components in the lab's network namespace (onebox.lab.netns) must still reach the API server and the scaler on
127.0.0.1, and the API server must reach KEDA's metrics adapter inside the namespace. A socket belongs to the
namespace of the thread that created it, so one process serves both sides: a worker thread enters the namespace
(setns) and creates the namespace-side sockets, the event loop moves the bytes.

``--into HOST_PORT:NS_PORT`` listens on the namespace's 127.0.0.1:NS_PORT and forwards to 127.0.0.1:HOST_PORT here;
``--out NS_PORT:HOST_PORT`` listens on 127.0.0.1:HOST_PORT here and forwards into the namespace's 127.0.0.1:NS_PORT.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence

_CLONE_NEWNET = 0x40000000
LOOPBACK = "127.0.0.1"


def _enter(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({path}) failed")
    finally:
        os.close(fd)


def _tcp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


def _handler(
    side: concurrent.futures.Executor | None, port: int
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """Forward each accepted connection to 127.0.0.1:port on the side whose thread makes the socket."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(side, _tcp)
        try:
            await loop.sock_connect(sock, (LOOPBACK, port))
        except OSError:
            sock.close()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(sock=sock)
        await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))

    return handle


def _listener(port: int) -> socket.socket:
    sock = _tcp()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(256)
    return sock


def _pair(text: str) -> tuple[int, int]:
    left, _, right = text.partition(":")
    return int(left), int(right)


async def _serve(netns: str, into: Sequence[tuple[int, int]], out: Sequence[tuple[int, int]]) -> None:
    inside = concurrent.futures.ThreadPoolExecutor(max_workers=1, initializer=_enter, initargs=(netns,))
    servers = []
    for host_port, ns_port in into:
        sock = inside.submit(_listener, ns_port).result()
        servers.append(await asyncio.start_server(_handler(None, host_port), sock=sock))
    for ns_port, host_port in out:
        servers.append(await asyncio.start_server(_handler(inside, ns_port), sock=_listener(host_port)))
    print("relay ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    inside.shutdown(wait=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onebox.lab.relay", description=__doc__.splitlines()[0])
    parser.add_argument("--netns", required=True, help="path of the namespace, e.g. /var/run/netns/NAME")
    parser.add_argument("--into", action="append", default=[], type=_pair, metavar="HOST_PORT:NS_PORT")
    parser.add_argument("--out", action="append", default=[], type=_pair, metavar="NS_PORT:HOST_PORT")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.netns, args.into, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
