"""`burst-load produce`: its flags and its handler (build the profile, the producer and the client; run; report)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from load import cli_common as common
from load.cli_common import UsageError, count, non_negative, positive
from load.messages import HEAVY, LIGHT
from load.profile_spec import KINDS, load_profile_file, profile_from_spec, resolve_profile_file
from load.profiles import Profile, ProfileError, describe, planned_count
from load.runs import write_summary
from load.traffic import Mix, SizeDistribution
from scaler.flags import EnvFlags, add_oci_flags, oci_settings_from

HELP = "send a load profile (open loop) to a queue or stream"

PROFILE_FLAGS: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    ("rate", non_negative, "constant: msgs/s"),
    ("duration", positive, "every profile: seconds"),
    ("baseline", non_negative, "spike: msgs/s outside the spike"),
    ("peak", non_negative, "spike: msgs/s during the spike"),
    ("start", non_negative, "spike: seconds until the spike"),
    ("length", non_negative, "spike: seconds the spike lasts"),
    ("begin", non_negative, "ramp: msgs/s at the start"),
    ("end", non_negative, "ramp: msgs/s at the end"),
    ("mean", non_negative, "sine: mean msgs/s"),
    ("amplitude", non_negative, "sine: msgs/s above and below the mean"),
    ("period", positive, "sine: seconds per period"),
    ("steps", str, "step: AT:RATE pairs, e.g. 0:5,30:50,60:5"),
    ("csv", str, "replay: CSV file of time,rate rows"),
    ("scale", non_negative, "replay: multiply every rate"),
)


def add_arguments(flags: EnvFlags) -> None:
    common.add_target(flags)
    add_oci_flags(flags)
    flags.add(
        "--profile",
        default="spike",
        help=f"one of {', '.join(KINDS)} (parameters from the flags below), a "
        "YAML file, or the name of one in load/profiles/ (flags override its values)",
    )
    for name, convert, text in PROFILE_FLAGS:
        flags.add(f"--{name}", default=None, type=convert, help=text)
    flags.add("--heavy-fraction", default=0.2, type=non_negative, help="fraction of heavy messages (0..1)")
    flags.add("--heavy-channel", default=HEAVY, help="Queue channel of heavy messages")
    flags.add("--light-channel", default=LIGHT, help="Queue channel of light messages")
    flags.switch("--no-channels", help="Queue: put messages without channel metadata")
    flags.add("--keys-per-class", default=8, type=count, help="Streaming: distinct keys per class (heavy-0 …)")
    flags.add("--size", default=256, type=count, help="median message size in bytes (encoded JSON)")
    flags.add("--size-sigma", default=0.0, type=non_negative, help="lognormal spread of sizes; 0 = fixed size")
    flags.add("--size-max", default=None, type=count, help="largest message in bytes (default: the service limit)")
    flags.add("--concurrency", default=4, type=count, help="PutMessages calls in flight at once")
    flags.add(
        "--batch",
        default=None,
        type=count,
        help="most messages per PutMessages (default: Queue 20, "
        "Streaming 500; Streaming requests also stay under 1 MiB)",
    )
    flags.add("--seed", default=None, type=int, help="seed for sizes and backoff jitter (reproducible runs)")


def profile_from_args(args: argparse.Namespace) -> Profile:
    """The profile named by ``--profile``, with the explicitly given parameter flags."""
    params = {name: getattr(args, name) for name, _, _ in PROFILE_FLAGS if getattr(args, name) is not None}
    if args.profile in KINDS:
        return profile_from_spec({"kind": args.profile, **params}, base_dir=Path.cwd())
    path = resolve_profile_file(args.profile)
    if path is None:
        raise ProfileError(
            f"--profile {args.profile!r} is neither a kind ({', '.join(KINDS)}) nor a YAML file "
            "(a path, or a name in load/profiles/)"
        )
    return load_profile_file(path, overrides=params)


def _traffic(args: argparse.Namespace, limit: int) -> tuple[Mix, SizeDistribution]:
    try:
        sizes = SizeDistribution(
            median=args.size, sigma=args.size_sigma, maximum=args.size_max or limit, seed=args.seed or 0
        )
        mix = Mix(
            heavy_fraction=args.heavy_fraction,
            heavy_channel=None if args.no_channels else args.heavy_channel,
            light_channel=None if args.no_channels else args.light_channel,
            keys_per_class=args.keys_per_class,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if sizes.maximum > limit:
        raise UsageError(f"--size-max {sizes.maximum} is above the service limit of {limit} bytes per message")
    return mix, sizes


def run(args: argparse.Namespace) -> int:
    from load import oci_clients
    from load.commands import run_produce
    from load.produce import (
        QUEUE_MAX_MESSAGE_BYTES,
        QUEUE_MAX_MESSAGES_PER_PUT,
        STREAM_MAX_MESSAGE_BYTES,
        STREAM_MAX_MESSAGES_PER_PUT,
        QueueProducer,
        StreamProducer,
    )

    target_id = common.target_id(args)
    profile = profile_from_args(args)
    planned = planned_count(profile)
    stream = args.target == "stream"
    mix, sizes = _traffic(args, STREAM_MAX_MESSAGE_BYTES if stream else QUEUE_MAX_MESSAGE_BYTES)
    run_dir = common.run_dir(args, "produce")
    settings = oci_settings_from(args, read_timeout_seconds=10.0)
    shared: dict[str, Any] = {
        "profile": profile,
        "mix": mix,
        "sizes": sizes,
        "concurrency": args.concurrency,
        "seed": args.seed,
    }
    producer: QueueProducer | StreamProducer
    if stream:
        producer = StreamProducer(
            client=oci_clients.stream_client(settings, target_id),
            stream_id=target_id,
            batch_limit=args.batch or STREAM_MAX_MESSAGES_PER_PUT,
            **shared,
        )
    else:
        producer = QueueProducer(
            client=oci_clients.queue_client(settings, target_id),
            queue_id=target_id,
            batch_limit=args.batch or QUEUE_MAX_MESSAGES_PER_PUT,
            **shared,
        )
    progress = common.progress()
    progress.message(
        f"burst-load produce: {describe(profile)} → {args.target} {target_id}; {planned} messages "
        f"planned over {profile.duration:g} s; run dir {run_dir}"
    )
    started = common.started()
    report = asyncio.run(
        run_produce(producer=producer, planned=planned, run_dir=run_dir, interval=args.interval, progress=progress)
    )
    write_summary(
        run_dir,
        {
            "command": "produce",
            "started_at": started,
            "target": args.target,
            "target_id": target_id,
            "profile": describe(profile),
            "mix": mix,
            "sizes": sizes,
            "report": report,
        },
    )
    print(
        f"produce: planned {report.planned}, sent {report.sent}, failed {report.failed}, throttled {report.throttled} "
        f"calls (retried), unsent {report.unsent}, abandoned {report.abandoned}; {report.duration:.1f} s of "
        f"{report.planned_duration:g} s planned; rate {report.achieved_rate:.1f}/s achieved vs "
        f"{report.planned_rate:.1f}/s planned; lateness p99 {report.lateness_p99 * 1000:.0f} ms\n"
        f"run dir: {run_dir}"
    )
    return 1 if report.failed else 0
