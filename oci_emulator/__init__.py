"""A local OCI emulator (Queue API 20210201, Streaming API 20180418) that the unmodified OCI SDK talks to over HTTP.

It exists so the scaler, its tests and its benchmarks exercise real SDK clients, real request signing and real wire
formats without an OCI tenancy. The scaler core never imports this package.

Typical use::

    with Emulator() as emu:
        queue_id = emu.create_queue("orders")
        client = oci.queue.QueueClient(emu.oci_config, service_endpoint=emu.url)
        stream_id = emu.create_stream("events", partitions=4)
        streams = oci.streaming.StreamClient(emu.oci_config, service_endpoint=emu.url)
"""

from .clock import ManualClock
from .credentials import ApiKey
from .emulator import Emulator
from .faults import FaultInjector, FaultRule, RequestCounters, ServedBytes
from .partitions import partition_for_key
from .settings import QueueLimits, QueueSettings
from .stream_settings import StreamLimits

__all__ = [
    "ApiKey",
    "Emulator",
    "FaultInjector",
    "FaultRule",
    "ManualClock",
    "QueueLimits",
    "QueueSettings",
    "RequestCounters",
    "ServedBytes",
    "StreamLimits",
    "partition_for_key",
]
