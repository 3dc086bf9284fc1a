"""`burst-scaler`: the product's commands plus the local world's (emulator, demo, lab).

The console script lands here so that the product package never has to know about the emulator, the model harness
or the lab. Their modules are imported only inside the handler of the command that needs them: ``burst-scaler
serve`` loads this file and scaler.cli, nothing else of the local world.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from scaler.cli import build_parser, run_command
from scaler.flags import positive_float
from scaler.telemetry import configure_logging


def _emulator(args: argparse.Namespace, rest: list[str]) -> int:
    from oci_emulator import cli as emulator_cli

    return emulator_cli.main(rest, prog="burst-scaler emulator")


def _demo(args: argparse.Namespace) -> int:
    from onebox.demo import run_demo

    configure_logging("WARNING")
    out_dir = Path(args.out) if args.out else None
    return asyncio.run(run_demo(time_scale=args.time_scale, out_dir=out_dir, out=sys.stdout, lab=args.lab))


def _lab(args: argparse.Namespace) -> int:
    from onebox.lab import cli as lab_cli

    return lab_cli.run(args)


def _add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    """The lab's actions; the names are a contract (operators' scripts call them)."""
    sub = parser.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="build the real components that are missing from the cache (needs Go 1.26)")
    build.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="build only these lab/ modules, e.g. `helm promtool prometheus-operator` (what CI checks deploy/ with) "
        "[default: the lab's]",
    )
    up = sub.add_parser("up", help="start the lab and return once it is ready")
    up.add_argument("--no-examples", action="store_true", help="do not apply deploy/examples")
    up.add_argument(
        "--node-delay",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how long a Karpenter node takes to turn Ready [default: 20]",
    )
    sub.add_parser("down", help="stop everything the lab started and remove its files and network namespace")
    status = sub.add_parser("status", help="is the lab up, and where are its endpoints")
    status.add_argument("--json", action="store_true", help="one JSON object (for scripts)")


def build() -> argparse.ArgumentParser:
    parser, sub = build_parser(
        description="burst-scaler: the product's commands (serve, check, metadata-table) and the local world's "
        "(emulator, demo, lab)"
    )
    # The emulator parses its own flags (python -m oci_emulator takes the same); listing it here costs no import.
    sub.add_parser(
        "emulator",
        add_help=False,
        help="run the local OCI emulator (Queue and Streaming REST APIs) on loopback; --help lists its flags",
    ).set_defaults(func=None, passthrough=_emulator)

    demo = sub.add_parser(
        "demo", help="the whole story on one machine: emulator, scaler, KEDA/HPA, virtual + managed tiers, Karpenter"
    )
    demo.add_argument(
        "--time-scale",
        type=positive_float,
        default=1.0,
        help="stretch (>1) or compress (<1) every duration of the story [default: %(default)s]",
    )
    demo.add_argument("--out", default=None, help="report directory [default: burst-reports/<time>-demo]")
    demo.add_argument(
        "--lab",
        action="store_true",
        help="run the story on the real-cluster lab (real KEDA, HPA, scheduler, Karpenter; starts it if needed)",
    )
    demo.set_defaults(func=_demo)

    lab = sub.add_parser("lab", help="the real-cluster lab: real KEDA, HPA, scheduler and Karpenter on KWOK nodes")
    _add_lab_arguments(lab)
    lab.set_defaults(func=_lab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build()
    args, rest = parser.parse_known_args(argv)
    passthrough = getattr(args, "passthrough", None)
    if passthrough is not None:
        result: int = passthrough(args, rest)
        return result
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return run_command(args)
