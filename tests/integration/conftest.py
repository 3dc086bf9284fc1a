"""Shared integration fixtures: in-process OCI emulators on 127.0.0.1:0, started for a test and stopped after it.

Every integration test that talks to OCI talks to the emulator through the unmodified SDK, so starting one is the
most repeated set-up in the suite. ``emulator`` is the common case (real clock, default options); tests that need
other options (a ManualClock, no Streaming throttle, a create delay) call ``start_emulator`` with them, and get the
same start/stop handling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oci_emulator import ApiKey, Emulator, ManualClock

StartEmulator = Callable[..., Emulator]
"""``start_emulator(**options)``: a started ``Emulator(host="127.0.0.1", port=0, api_key=<session key>, **options)``."""


@pytest.fixture(scope="session")
def emulator_api_key() -> ApiKey:
    """One generated key for the session: RSA generation is the slowest part of starting an emulator."""
    return ApiKey.generate()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def start_emulator(emulator_api_key: ApiKey) -> Iterator[StartEmulator]:
    """Start emulators with the given ``Emulator`` options; every one is stopped at the end of the test."""
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        options = {"host": "127.0.0.1", "port": 0, "api_key": emulator_api_key, **options}
        emulator = Emulator(**options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    """A started emulator on the real clock, stopped at the end of the test."""
    return start_emulator()
