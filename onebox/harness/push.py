"""KEDA's StreamIsActive consumer for an ``external-push`` trigger.

kedacore/keda @ v2.20.2 pkg/scalers/external_scaler.go ``externalPushScaler.Run`` and ``handleIsActiveStream``:
the first stream opens at once; every ``true`` is handed to the scale handler (``false`` is ignored since 2.18,
pkg/scaling/scale_handler.go ``startPushScalers``). After each stream ends KEDA waits ``retryDuration`` and then
doubles it (capped at 60 s); a clean end (io.EOF) first resets it to 2 s, any error leaves it as it is. So a clean
EOF is followed by a 2 s wait and the next wait is 4 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 60.0


def next_backoff(backoff: float, *, clean: bool) -> tuple[float, float]:
    """(this wait, the one after) for a stream that just ended, cleanly or not."""
    wait = FIRST_BACKOFF_SECONDS if clean else backoff
    return wait, min(wait * 2, MAX_BACKOFF_SECONDS)


async def hold_push_stream(
    *,
    stub: externalscaler_pb2_grpc.ExternalScalerStub,
    ref: pb.ScaledObjectRef,
    on_true: Callable[[], None],
    on_surprise: Callable[[str, BaseException], None],
    stop: asyncio.Event,
    name: str,
) -> None:
    """Hold one StreamIsActive stream, reopening it with KEDA's backoff, until ``stop`` is set."""
    backoff = FIRST_BACKOFF_SECONDS
    while not stop.is_set():
        stream = None
        clean = False
        try:
            stream = stub.StreamIsActive(ref)
            async for message in stream:
                if message.result:
                    on_true()
            clean = True
        except grpc.aio.AioRpcError as exc:
            log.info("%s: StreamIsActive ended with %s", name, exc.code().name)
        except (Exception, asyncio.CancelledError) as exc:
            on_surprise("StreamIsActive", exc)
        finally:
            if stream is not None:
                stream.cancel()
        wait, backoff = next_backoff(backoff, clean=clean)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
