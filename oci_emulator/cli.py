"""``burst-scaler emulator``: run the OCI emulator as a foreground process until SIGINT or SIGTERM.

Scripts and benchmarks start the emulator as a subprocess and need two facts from it: where it
listens and which config authenticates against it. The first stdout line is always
``emulator listening on <url>`` (flushed), followed by ``emulator config <path> profile <name>`` when
``--write-config`` is given and ``emulator compartment <ocid>``. Every flag can also be set through the environment
variable named in its help.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from .credentials import ApiKey
from .emulator import Emulator
from .seed import SeedError

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:12000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--address",
        default=env("EMULATOR_ADDRESS", DEFAULT_ADDRESS),
        metavar="HOST:PORT",
        help="listen address; port 0 picks a free port (env EMULATOR_ADDRESS, default %(default)s)",
    )
    parser.add_argument(
        "--write-config",
        type=Path,
        default=env("EMULATOR_WRITE_CONFIG"),
        metavar="PATH",
        help="write an OCI config (and its key file beside it) for the emulator (env EMULATOR_WRITE_CONFIG)",
    )
    parser.add_argument(
        "--profile",
        default=env("EMULATOR_PROFILE", "DEFAULT"),
        metavar="NAME",
        help="profile name written by --write-config and read by --config (env EMULATOR_PROFILE, default %(default)s)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=env("EMULATOR_CONFIG"),
        metavar="PATH",
        help="accept the API key of this existing OCI config profile instead of generating one (env EMULATOR_CONFIG)",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=env("EMULATOR_SEED"),
        metavar="FILE",
        help="JSON file of queues and streams (and messages) to create at start-up (env EMULATOR_SEED)",
    )
    parser.add_argument(
        "--compartment-id",
        default=env("EMULATOR_COMPARTMENT_ID"),
        metavar="OCID",
        help="the compartment the emulator serves (env EMULATOR_COMPARTMENT_ID, default a fresh OCID)",
    )
    parser.add_argument(
        "--public-url",
        default=env("EMULATOR_PUBLIC_URL"),
        metavar="URL",
        help="messagesEndpoint advertised by GetQueue and GetStream, when clients reach the emulator through another "
        "address",
    )
    parser.add_argument(
        "--create-delay-seconds",
        type=float,
        default=float(env("EMULATOR_CREATE_DELAY_SECONDS", "0")),
        metavar="SECONDS",
        help="time a queue or stream stays CREATING/DELETING (env EMULATOR_CREATE_DELAY_SECONDS, default %(default)s)",
    )
    parser.add_argument(
        "--max-long-poll-seconds",
        type=float,
        default=float(env("EMULATOR_MAX_LONG_POLL_SECONDS", "30")),
        metavar="SECONDS",
        help="upper bound of a GetMessages long poll (env EMULATOR_MAX_LONG_POLL_SECONDS, default %(default)s)",
    )
    parser.add_argument(
        "--stream-throttle",
        choices=["on", "off"],
        default=env("EMULATOR_STREAM_THROTTLE", "on"),
        help="refuse Streaming GetMessages beyond 5 per second per partition and consumer group with 429, as OCI "
        "does (env EMULATOR_STREAM_THROTTLE, default %(default)s; switchable at PUT /_emulator/stream-throttle)",
    )


def main(argv: list[str] | None = None, *, prog: str = "python -m oci_emulator") -> int:
    """Parse the emulator's own flags and run it; ``burst-scaler emulator`` hands its arguments here unparsed."""
    parser = argparse.ArgumentParser(prog=prog, description="Run the local OCI Queue and Streaming emulator.")
    add_arguments(parser)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return run(args)


def parse_address(address: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` for IPv6); raises ValueError with the expected form."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--address must be HOST:PORT, got '{address}'")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    try:
        host, port = parse_address(args.address)
        api_key = ApiKey.from_oci_config(args.config, args.profile) if args.config else None
        emulator = Emulator(
            host=host,
            port=port,
            seed=args.seed,
            api_key=api_key,
            compartment_id=args.compartment_id,
            public_url=args.public_url,
            create_delay_seconds=args.create_delay_seconds,
            max_long_poll_seconds=args.max_long_poll_seconds,
            stream_throttle=args.stream_throttle == "on",
        )
    except (ValueError, OSError, SeedError) as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = _install_signal_handlers(stop)
    try:
        emulator.start()
    except OSError as error:
        _restore_signal_handlers(previous)
        print(f"emulator: cannot listen on {args.address}: {error}", file=sys.stderr)
        return 2
    try:
        print(f"emulator listening on {emulator.url}", flush=True)
        if args.write_config is not None:
            emulator.write_config(args.write_config, args.profile)
            print(f"emulator config {args.write_config.expanduser().absolute()} profile {args.profile}", flush=True)
        print(f"emulator compartment {emulator.compartment_id}", flush=True)
        while not stop.wait(1.0):
            pass
        logger.info("stopping on signal")
    finally:
        emulator.stop()
        _restore_signal_handlers(previous)
    return 0


_Handlers = dict[int, Any]  # whatever signal.signal returned, to be put back


def _install_signal_handlers(stop: threading.Event) -> _Handlers:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: _Handlers = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, handle)
        except ValueError:  # not the main thread: rely on the caller to stop us
            logger.warning("cannot install a handler for %s outside the main thread; stop the process instead", signum)
    return previous


def _restore_signal_handlers(previous: _Handlers) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
