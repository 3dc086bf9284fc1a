"""Shared fixtures: a real scaler on 127.0.0.1:0 and a real gRPC client; a guard against leaked asyncio tasks.

The guard exists because a leaked task fails nothing by itself: pytest-asyncio closes each test's loop and cancels
whatever is still pending, so a background task that a ``stop()`` forgot (a watcher, a refresh loop, a stream) goes
unnoticed until it misbehaves in production. Every async test is therefore checked for tasks it created and left
pending after all of its fixtures were torn down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from pytest_asyncio import is_async_test

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
        await channel.close(None)


def stub_for(channel: grpc.aio.Channel) -> externalscaler_pb2_grpc.ExternalScalerStub:
    return externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]


@pytest.fixture(autouse=True)
def _no_leaked_tasks(request: pytest.FixtureRequest) -> None:
    """Apply the task-leak guard to async tests; sync tests have no running loop to watch."""
    if is_async_test(request.node):
        request.getfixturevalue("_task_leak_guard")


@pytest.fixture
async def _task_leak_guard() -> AsyncIterator[None]:
    """Fail the test if tasks created during it are still pending once its other fixtures are torn down.

    Set up before the test's own fixtures (it is requested by an autouse fixture), so it is torn down after them:
    a task that a fixture's teardown stops is not a leak. Pending tasks get one loop turn to finish first; the
    leaked ones are then cancelled, so the report is the only consequence.
    """
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    current = asyncio.current_task()
    leaked = [task for task in asyncio.all_tasks() - before if task is not current and not task.done()]
    if not leaked:
        return
    for task in leaked:
        task.cancel()
    await asyncio.gather(*leaked, return_exceptions=True)
    names = "; ".join(sorted(_describe(task) for task in leaked))
    pytest.fail(f"the test leaked {len(leaked)} asyncio task(s), still pending after teardown: {names}", pytrace=False)


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or repr(coro)
    code = getattr(coro, "cr_code", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    return f"{task.get_name()} coro={name}{where}"
