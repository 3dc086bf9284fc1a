"""Fixtures of the emulator tests: the shared emulator on a ManualClock, and real OCI SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import oci
import pytest

from oci_emulator import Emulator, ManualClock
from tests.integration.conftest import StartEmulator

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}


@dataclass
class Clients:
    admin: Any
    data: Any
    composite: Any

    def close(self) -> None:
        self.admin.base_client.session.close()
        self.data.base_client.session.close()


MakeClients = Callable[[dict[str, Any], str], Clients]


def clients_for(config: dict[str, Any], url: str) -> Clients:
    admin = oci.queue.QueueAdminClient(config, service_endpoint=url, **QUIET)
    data = oci.queue.QueueClient(config, service_endpoint=url, timeout=(3, 40), **QUIET)
    return Clients(admin=admin, data=data, composite=oci.queue.QueueAdminClientCompositeOperations(admin))


@pytest.fixture
def emulator(start_emulator: StartEmulator, clock: ManualClock) -> Emulator:
    """Emulator tests step service time themselves: here the shared fixture runs on the test's ManualClock."""
    return start_emulator(clock=clock)


@pytest.fixture
def make_clients() -> Iterator[MakeClients]:
    """Build SDK clients for any config/endpoint; their connection pools are closed after the test."""
    made: list[Clients] = []

    def make(config: dict[str, Any], url: str) -> Clients:
        made.append(clients_for(config, url))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def clients(emulator: Emulator, make_clients: MakeClients) -> Clients:
    return make_clients(emulator.oci_config, emulator.url)
