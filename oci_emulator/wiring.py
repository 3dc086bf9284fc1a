"""How the emulator's parts plug together: the stores, the REST APIs over them, the routers and the pipeline.

``Emulator`` stays a small facade of lifecycle and client facts; the one place that decides which handler serves
which OCI operation, and which collaborators the pipeline consults before it, is here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .app import EmulatorApp
from .auth import SignatureVerifier
from .control import ControlApi
from .credentials import ApiKey
from .faults import FaultInjector, RequestCounters
from .provisioning import Provisioner
from .queue_admin_api import QueueAdminApi
from .queue_data_api import QueueDataApi
from .queues import QueueStore
from .routing import Router
from .settings import QueueLimits
from .stream_admin_api import StreamAdminApi
from .stream_data_api import StreamDataApi
from .stream_settings import StreamLimits
from .streams import StreamStore


def build_app(
    queues: QueueStore,
    streams: StreamStore,
    *,
    api_key: ApiKey,
    compartment_id: str,
    stream_pool_id: str,
    endpoint: Callable[[], str],
    limits: QueueLimits,
    stream_limits: StreamLimits,
    counters: RequestCounters,
    stopping: threading.Event,
    wall_clock: Callable[[], float] = time.time,
) -> tuple[EmulatorApp, FaultInjector]:
    """The request pipeline serving every Queue and Streaming operation, and the fault injector it consults.

    ``wall_clock`` (epoch seconds) is what signed dates are checked against; the stores keep their service clock.
    """
    compartments = frozenset({compartment_id, api_key.tenancy})
    admin = QueueAdminApi(queues, compartments=compartments, endpoint=endpoint, limits=limits)
    stream_admin = StreamAdminApi(
        streams,
        compartments=compartments,
        stream_pool_id=stream_pool_id,
        pool_compartment_id=compartment_id,
        endpoint=endpoint,
        limits=stream_limits,
    )
    services = Router(admin.routes())
    services.include(QueueDataApi(queues, limits=limits).routes())
    services.include(stream_admin.routes())
    services.include(StreamDataApi(streams, limits=stream_limits, counters=counters).routes())
    faults = FaultInjector(known_operations=services.operations)
    control = Router(ControlApi(faults=faults, counters=counters, stream_throttle=streams.throttle).routes())
    app = EmulatorApp(
        services=services,
        control=control,
        verifier=SignatureVerifier({api_key.key_id: api_key.public_key()}, wall_clock=wall_clock),
        faults=faults,
        counters=counters,
        stopping=stopping,
    )
    return app, faults


@dataclass(frozen=True)
class EmulatorParts:
    """Everything one emulator serves from, created together so that every part shares one clock and one key."""

    queues: QueueStore
    streams: StreamStore
    counters: RequestCounters
    faults: FaultInjector
    stopping: threading.Event
    app: EmulatorApp
    provisioner: Provisioner


def assemble(
    *,
    clock: Callable[[], float],
    create_delay_seconds: float,
    max_long_poll_seconds: float,
    limits: QueueLimits,
    stream_limits: StreamLimits,
    stream_throttle: bool,
    api_key: ApiKey,
    compartment_id: str,
    stream_pool_id: str,
    endpoint: Callable[[], str],
    wall_clock: Callable[[], float] = time.time,
) -> EmulatorParts:
    """The stores, the request pipeline over them and the provisioner, for one emulator."""
    queues = QueueStore(
        clock=clock, create_delay_seconds=create_delay_seconds, max_long_poll_seconds=max_long_poll_seconds
    )
    streams = StreamStore(
        clock=clock, create_delay_seconds=create_delay_seconds, limits=stream_limits, throttle=stream_throttle
    )
    counters = RequestCounters()
    stopping = threading.Event()
    app, faults = build_app(
        queues,
        streams,
        api_key=api_key,
        compartment_id=compartment_id,
        stream_pool_id=stream_pool_id,
        endpoint=endpoint,
        limits=limits,
        stream_limits=stream_limits,
        counters=counters,
        stopping=stopping,
        wall_clock=wall_clock,
    )
    provisioner = Provisioner(
        queues,
        streams,
        compartment_id=compartment_id,
        tenancy=api_key.tenancy,
        stream_pool_id=stream_pool_id,
        limits=limits,
        stream_limits=stream_limits,
    )
    return EmulatorParts(queues, streams, counters, faults, stopping, app, provisioner)
