"""Queues and streams created without HTTP, ACTIVE at once: ``Emulator.create_queue``/``create_stream`` and seed files.

Tests, benchmarks and the demo need resources before any client runs, with the same validation the REST API applies
(an out-of-range setting raises ``ValueError`` here instead of answering 400), in a compartment the emulator serves.
Keeping both paths in one place means a seed file and a direct call can never create a resource the other refuses.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .queues import QueueStore
from .seed import load_seed, load_stream_seed
from .settings import QueueLimits, QueueSettings
from .stream_settings import RETENTION_IN_HOURS, StreamLimits
from .streams import StreamStore

logger = logging.getLogger(__name__)


class Provisioner:
    """Creates ACTIVE queues and streams in the emulator's compartment (or the tenancy root) and stream pool."""

    def __init__(
        self,
        queues: QueueStore,
        streams: StreamStore,
        *,
        compartment_id: str,
        tenancy: str,
        stream_pool_id: str,
        limits: QueueLimits,
        stream_limits: StreamLimits,
    ) -> None:
        self._queues = queues
        self._streams = streams
        self._compartment_id = compartment_id
        self._compartments = {compartment_id, tenancy}
        self._stream_pool_id = stream_pool_id
        self._limits = limits
        self._stream_limits = stream_limits

    def queue(self, display_name: str, settings: QueueSettings, *, queue_id: str | None) -> str:
        """Create an ACTIVE queue in the emulator's compartment; returns its OCID."""
        problems = settings.problems()
        if problems:
            raise ValueError("; ".join(problems))
        info, _ = self._queues.create_queue(
            display_name=display_name,
            compartment_id=self._compartment_id,
            settings=settings,
            queue_id=queue_id,
            immediate=True,
        )
        return info.queue_id

    def stream(self, name: str, *, partitions: int, retention_in_hours: int, stream_id: str | None) -> str:
        """Create an ACTIVE stream in the emulator's compartment and stream pool; returns its OCID."""
        problems = [
            problem
            for problem in (
                self._stream_limits.partitions.problem(partitions),
                RETENTION_IN_HOURS.problem(retention_in_hours),
            )
            if problem is not None
        ]
        if problems:
            raise ValueError("; ".join(problems))
        info = self._streams.create_stream(
            name=name,
            compartment_id=self._compartment_id,
            stream_pool_id=self._stream_pool_id,
            partitions=partitions,
            retention_in_hours=retention_in_hours,
            stream_id=stream_id,
            immediate=True,
        )
        return info.stream_id

    def seed(self, path: Path) -> None:
        """Create every queue and stream of a seed file (see ``seed``), with their messages."""
        for queue in load_seed(path, limits=self._limits):
            compartment = queue.compartment_id or self._compartment_id
            if compartment not in self._compartments:
                raise ValueError(
                    f"seed queue {queue.display_name}: compartment {compartment} is not served by the emulator; "
                    "omit compartmentId or pass --compartment-id"
                )
            info, _ = self._queues.create_queue(
                display_name=queue.display_name,
                compartment_id=compartment,
                settings=queue.settings,
                queue_id=queue.queue_id,
                immediate=True,
            )
            if queue.messages:
                self._queues.put_messages(info.queue_id, queue.messages)
            logger.info("seeded queue %s (%s) with %d messages", info.queue_id, queue.display_name, len(queue.messages))
        for stream in load_stream_seed(path, limits=self._stream_limits):
            compartment = stream.compartment_id or self._compartment_id
            if compartment not in self._compartments:
                raise ValueError(
                    f"seed stream {stream.name}: compartment {compartment} is not served by the emulator; "
                    "omit compartmentId or pass --compartment-id"
                )
            stream_info = self._streams.create_stream(
                name=stream.name,
                compartment_id=compartment,
                stream_pool_id=self._stream_pool_id,
                partitions=stream.partitions,
                retention_in_hours=stream.retention_in_hours,
                stream_id=stream.stream_id,
                immediate=True,
            )
            if stream.messages:
                self._streams.put_messages(stream_info.stream_id, stream.messages)
            logger.info(
                "seeded stream %s (%s) with %d messages", stream_info.stream_id, stream.name, len(stream.messages)
            )
