"""A local OCI emulator (Queue API 20210201) that the unmodified OCI Python SDK talks to over HTTP.

It exists so the scaler, its tests and its benchmarks exercise real SDK clients, real request signing and real wire
formats without an OCI tenancy. The scaler core never imports this package.

Typical use::

    with Emulator() as emu:
        queue_id = emu.create_queue("orders")
        client = oci.queue.QueueClient(emu.oci_config, service_endpoint=emu.url)
"""

from .clock import ManualClock
from .credentials import ApiKey
from .emulator import Emulator
from .faults import FaultInjector, FaultRule, RequestCounters
from .settings import QueueLimits, QueueSettings

__all__ = [
    "ApiKey",
    "Emulator",
    "FaultInjector",
    "FaultRule",
    "ManualClock",
    "QueueLimits",
    "QueueSettings",
    "RequestCounters",
]
