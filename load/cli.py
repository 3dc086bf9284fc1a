"""`burst-load`: produce bursts into OCI Queue / Streaming, consume them, observe the cluster, report the run.

Every flag can also be set through an environment variable named ``BURST_LOAD_<FLAG>`` (``--queue-id`` →
``BURST_LOAD_QUEUE_ID``; repeatable flags take a comma-separated list; switches take true/false), so the consumer
runs as a Deployment configured by its environment. A flag on the command line wins over the environment. Only
the chosen command's variables are read (scaler.flags, shared with burst-scaler).

Every run writes ``timeline.csv`` and ``summary.json`` into its run directory (``--out``, default
``burst-reports/<timestamp>-<command>``); ``burst-load report RUN_DIR`` turns one into ``summary.txt`` and
``timeline.png``. Each subcommand's flags and handler live in its own module (cli_produce, cli_consume,
cli_observe); this one assembles the parser and runs the chosen command.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from load import cli_consume, cli_observe, cli_produce
from load.cli_common import UsageError, add_common, flags_for
from load.profiles import ProfileError
from scaler.errors import ConfigError
from scaler.flags import FlagError, resolve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burst-load",
        description="Produce bursts into OCI Queue / Streaming, consume them, observe the cluster, report the run. "
        "Every flag also reads BURST_LOAD_<FLAG> from the environment.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in (("produce", cli_produce), ("consume", cli_consume), ("observe", cli_observe)):
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        flags = flags_for(command)
        module.add_arguments(flags)
        add_common(flags, name)
        command.set_defaults(func=module.run)
    report = sub.add_parser("report", help="summary.txt and timeline.png from a run directory")
    report.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run directory (timeline.csv, summary.json)")
    flags_for(report).switch("--no-png", help="only the text summary")
    report.set_defaults(func=_report)
    return parser


def _report(args: argparse.Namespace) -> int:
    from load.report import run_report

    return run_report(args.run_dir, out=sys.stdout, err=sys.stderr, png=not args.no_png)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        resolve(args, os.environ)
    except FlagError as exc:
        parser.error(str(exc))
    if getattr(args, "log_level", None):
        logging.basicConfig(
            level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
    try:
        result: int = args.func(args)
    except (UsageError, ProfileError, ConfigError) as exc:
        print(f"burst-load {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"burst-load {args.command}: interrupted", file=sys.stderr)
        return 130
    return result
