"""Shared fixtures: a real scaler on 127.0.0.1:0 and a real gRPC client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from scaler._proto import externalscaler_pb2_grpc
from scaler.app import ScalerApp
from scaler.settings import KubeMode, KubeSettings, Settings
from tests.support.fakes import FakeQueueSource

StartScaler = Callable[..., Awaitable[ScalerApp]]
USE_FAKE: Any = object()
"""Default for start_scaler(queue_source=..., stream_source=...): a fake. Pass None for the real OCI source."""


@pytest.fixture
async def start_scaler() -> AsyncIterator[StartScaler]:
    """Start ScalerApps with the given settings overrides; all are stopped at the end of the test."""
    apps: list[ScalerApp] = []

    async def start(
        *, queue_source: Any = USE_FAKE, stream_source: Any = USE_FAKE, clock: Any = None, **overrides: Any
    ) -> ScalerApp:
        fields: dict[str, Any] = {
            "address": "127.0.0.1:0",
            "metrics_address": None,
            "grace_seconds": 1.0,
            "kube": KubeSettings(mode=KubeMode.OFF),
        }
        fields.update(overrides)
        extra = {"clock": clock} if clock is not None else {}
        app = ScalerApp(
            settings=Settings(**fields),
            queue_source=FakeQueueSource() if queue_source is USE_FAKE else queue_source,
            stream_source=FakeQueueSource() if stream_source is USE_FAKE else stream_source,
            **extra,
        )
        await app.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop()


@pytest.fixture
async def channel_for() -> AsyncIterator[Callable[[ScalerApp], grpc.aio.Channel]]:
    channels: list[grpc.aio.Channel] = []

    def make(app: ScalerApp) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.close()


def stub_for(channel: grpc.aio.Channel) -> externalscaler_pb2_grpc.ExternalScalerStub:
    return externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
