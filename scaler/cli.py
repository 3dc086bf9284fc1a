"""`burst-scaler` commands of the product: serve (the KEDA external scaler), check, metadata-table.

The local world (onebox.cli) adds emulator, demo and lab on top of this parser, so the product itself never imports
them and ``burst-scaler serve`` loads none of their modules.

Every flag can also be set through an environment variable named ``BURST_SCALER_<FLAG>`` (``--max-staleness`` →
``BURST_SCALER_MAX_STALENESS``), which is how the Deployment in deploy/ configures the scaler. A flag on the
command line wins over the environment; only the running command's variables are read (scaler.flags).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from scaler import __version__
from scaler.errors import ConfigError
from scaler.flags import (
    LOG_LEVELS,
    EnvFlags,
    add_kube_flags,
    add_oci_flags,
    kube_settings_from,
    log_level,
    oci_settings_from,
    positive_float,
    resolve,
)
from scaler.settings import KubeMode, Settings, TlsSettings
from scaler.telemetry import configure_logging

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What ``add_subparsers`` returns: where callers register further subcommands."""

ENV_PREFIX = "BURST_SCALER_"


def _add_serve_flags(parser: argparse.ArgumentParser) -> None:
    flags = EnvFlags(parser, prefix=ENV_PREFIX)
    flags.add("--address", default="0.0.0.0:6000", help="gRPC listen address HOST:PORT")
    flags.add(
        "--metrics-address",
        default="0.0.0.0:8080",
        help="Prometheus /metrics listen address HOST:PORT; 'off' disables it",
    )
    add_oci_flags(flags)
    flags.add(
        "--max-staleness",
        default=60.0,
        type=positive_float,
        help="seconds the last good value is served after upstream failures, then UNAVAILABLE",
    )
    flags.add(
        "--cache-ttl",
        default=1.0,
        type=positive_float,
        help="seconds a read is shared before OCI is asked again",
    )
    flags.add(
        "--push-interval",
        default=1.0,
        type=positive_float,
        help="seconds between refreshes of sources watched by StreamIsActive",
    )
    flags.add(
        "--throttle-backoff",
        default=2.0,
        type=positive_float,
        help="seconds a source throttled by OCI (429, no retry hint) is not read, doubled per 429 in a row",
    )
    flags.add(
        "--throttle-backoff-max",
        default=30.0,
        type=positive_float,
        help="longest throttle back-off, also the most of an OCI retry hint that is honoured",
    )
    flags.add(
        "--rpc-deadline",
        default=1.0,
        type=positive_float,
        help="longest an RPC waits for OCI when KEDA sets no deadline",
    )
    flags.add(
        "--forget-after",
        default=600.0,
        type=positive_float,
        help="seconds after which a ScaledObject nobody asks about loses its /metrics series and cached state",
    )
    flags.add("--grace", default=10.0, type=float, help="seconds in-flight calls get to finish on SIGTERM")
    flags.add("--tls-cert", default=None, help="server certificate (PEM); enables TLS")
    flags.add("--tls-key", default=None, help="server private key (PEM)")
    flags.add("--tls-client-ca", default=None, help="CA bundle (PEM) for client certificates; enables mTLS")
    add_kube_flags(
        flags,
        modes=list(KubeMode),
        help="Kubernetes API access for spill-over readiness, drain estimates and placement checks",
        kubeconfig_help="kubeconfig file (with --kube kubeconfig or auto)",
    )
    flags.add("--log-level", default="INFO", type=log_level, help="logging level", choices=LOG_LEVELS)


def settings_from(args: argparse.Namespace) -> Settings:
    """Validate flag combinations and build the frozen Settings."""
    tls = None
    if args.tls_cert or args.tls_key or args.tls_client_ca:
        if not (args.tls_cert and args.tls_key):
            raise ConfigError("--tls-cert and --tls-key must be given together (and --tls-client-ca needs both)")
        tls = TlsSettings(
            cert_file=Path(args.tls_cert),
            key_file=Path(args.tls_key),
            client_ca_file=Path(args.tls_client_ca) if args.tls_client_ca else None,
        )
    metrics = None if str(args.metrics_address).lower() in {"", "off", "none"} else args.metrics_address
    return Settings(
        address=args.address,
        metrics_address=metrics,
        oci=oci_settings_from(args),
        tls=tls,
        kube=kube_settings_from(args),
        cache_ttl_seconds=args.cache_ttl,
        max_staleness_seconds=args.max_staleness,
        push_interval_seconds=args.push_interval,
        throttle_backoff_seconds=args.throttle_backoff,
        throttle_backoff_max_seconds=max(args.throttle_backoff_max, args.throttle_backoff),
        rpc_deadline_seconds=args.rpc_deadline,
        forget_after_seconds=args.forget_after,
        grace_seconds=args.grace,
        log_level=args.log_level,
    )


def _serve(args: argparse.Namespace) -> int:
    from scaler.app import ScalerApp

    settings = settings_from(args)
    configure_logging(settings.log_level)
    asyncio.run(ScalerApp(settings=settings).run_until_signal())
    return 0


def _metadata_table(args: argparse.Namespace) -> int:
    from scaler.metadata import render_table, splice_table

    if args.readme is None:
        print(render_table())
        return 0
    path = Path(args.readme)
    current = path.read_text()
    updated = splice_table(current, render_table())
    if updated == current:
        return 0
    if args.check:
        print(f"{path}: the metadata table is out of date; run: burst-scaler metadata-table --readme {path}")
        return 1
    path.write_text(updated)
    print(f"{path}: metadata table updated")
    return 0


def build_parser(*, description: str | None = None) -> tuple[argparse.ArgumentParser, Subcommands]:
    """The parser with the product's subcommands; callers add theirs to the returned subparsers."""
    parser = argparse.ArgumentParser(prog="burst-scaler", description=description or __doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the KEDA external scaler (gRPC) and its /metrics endpoint")
    _add_serve_flags(serve)
    serve.set_defaults(func=_serve)

    from scaler import check

    checker = sub.add_parser(
        "check", help="placement lint: do scaled targets fit their tier (virtual nodes / managed pools)?"
    )
    check.add_arguments(checker)
    checker.set_defaults(func=check.run)

    table = sub.add_parser("metadata-table", help="print the trigger metadata table, or update it in a README")
    table.add_argument("--readme", default=None, help="rewrite the table between the metadata-table markers")
    table.add_argument("--check", action="store_true", help="with --readme: exit 1 if the table is out of date")
    table.set_defaults(func=_metadata_table)
    return parser, sub


def run_command(args: argparse.Namespace) -> int:
    """Read the chosen subcommand's environment, then run it; configuration errors exit 2 with one clear line."""
    try:
        resolve(args, os.environ)
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"burst-scaler: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scaler``: the product's commands alone."""
    parser, _ = build_parser()
    return run_command(parser.parse_args(argv))
