"""What every burst-load subcommand shares: its flag prefix, value checks, run directory and progress output.

The subcommands (cli_produce, cli_consume, cli_observe) each declare their own flags and handler; this module keeps
the pieces they would otherwise copy, so ``--out``, ``--interval`` and ``--log-level`` read the same everywhere.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from load.live import Progress
from load.runs import default_run_dir
from scaler.flags import LOG_LEVELS, EnvFlags, log_level

ENV_PREFIX = "BURST_LOAD_"


class UsageError(Exception):
    """Flags or environment that cannot work together; the message says which and how to fix them."""


def flags_for(parser: argparse.ArgumentParser) -> EnvFlags:
    """burst-load's flags on one subcommand: each also reads ``BURST_LOAD_<FLAG>``."""
    return EnvFlags(parser, prefix=ENV_PREFIX)


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_common(flags: EnvFlags, command: str) -> None:
    flags.add(
        "--out",
        default=None,
        help=f"run directory (timeline.csv, summary.json); default burst-reports/<timestamp>-{command}",
    )
    flags.add("--interval", default=1.0, type=positive, help="seconds between timeline rows and progress updates")
    flags.add("--log-level", default="WARNING", type=log_level, help="logging level (stderr)", choices=LOG_LEVELS)


def add_target(flags: EnvFlags) -> None:
    flags.add("--target", default="queue", choices=["queue", "stream"], help="OCI Queue or OCI Streaming")
    flags.add("--queue-id", default=None, help="OCID of the queue (--target queue)")
    flags.add("--stream-id", default=None, help="OCID of the stream (--target stream)")


def target_id(args: argparse.Namespace) -> str:
    if args.target == "queue" and not args.queue_id:
        raise UsageError("--target queue needs --queue-id (or BURST_LOAD_QUEUE_ID)")
    if args.target == "stream" and not args.stream_id:
        raise UsageError("--target stream needs --stream-id (or BURST_LOAD_STREAM_ID)")
    return str(args.queue_id if args.target == "queue" else args.stream_id)


def run_dir(args: argparse.Namespace, command: str) -> Path:
    return Path(args.out) if args.out else default_run_dir(command, datetime.now())


def progress() -> Progress:
    return Progress(sys.stdout, interactive=sys.stdout.isatty())


def started() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
