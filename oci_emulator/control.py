"""Unsigned HTTP endpoints that control a running emulator from another process.

Benchmarks and shell scripts run the emulator as a subprocess, so fault injection and request counters must be
reachable over HTTP. These paths live outside the OCI API prefix, need no signature, are not counted and are never
subject to injected faults:

- ``GET /_emulator/health`` answers ``{"status": "ok"}`` once the server accepts requests.
- ``GET /_emulator/counters`` answers ``{"counters": {"GetStats": 3, ...}}`` (OCI operation name to request count).
- ``GET /_emulator/bytes`` answers ``{"bytes": {"GetStreamMessages": {"body": 5120, "payload": 4096}, ...}}``: per
  OCI operation, the response body bytes served and the message payload (decoded keys and values) carried.
- ``POST /_emulator/counters/reset`` zeroes the counters, bytes included (204).
- ``GET /_emulator/faults`` lists the active rules ``{"faults": [{...}]}``; ``count`` is the applications left.
- ``PUT /_emulator/faults`` adds one rule; the JSON body takes the keyword names of ``FaultInjector.inject``:
  ``{"status": 429, "code": "TooManyRequests", "latency_seconds": 0.5, "operations": ["GetStats"], "count": 2,
  "reset_connection": false, "retry_after_seconds": 5}`` (all optional, but the rule must do something; a
  ``retry_after_seconds`` is sent as a ``retry-after`` header with the status). Answers the rule (200).
- ``DELETE /_emulator/faults`` removes every rule (204).
- ``GET /_emulator/stream-throttle`` answers ``{"enabled": true}``: whether Streaming GetMessages is throttled at 5
  requests per second per partition and consumer group (429 beyond).
- ``PUT /_emulator/stream-throttle`` with ``{"enabled": false}`` switches it (and answers the new state).
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidParameter
from .faults import FaultInjector, FaultRule, RequestCounters
from .routing import ApiRequest, ApiResponse, JsonObject, Route
from .throttle import GetThrottle

PREFIX = "/_emulator"
_FAULT_FIELDS = frozenset(
    {"status", "code", "latency_seconds", "operations", "count", "reset_connection", "retry_after_seconds"}
)


class ControlApi:
    """Handlers for the ``/_emulator`` endpoints."""

    def __init__(
        self, *, faults: FaultInjector, counters: RequestCounters, stream_throttle: GetThrottle | None = None
    ) -> None:
        self._faults = faults
        self._counters = counters
        self._stream_throttle = stream_throttle

    def routes(self) -> list[Route]:
        routes = [
            Route("GET", f"{PREFIX}/health", "Emulator.Health", self.health, signed=False),
            Route("GET", f"{PREFIX}/counters", "Emulator.GetCounters", self.get_counters, signed=False),
            Route("GET", f"{PREFIX}/bytes", "Emulator.GetBytes", self.get_bytes, signed=False),
            Route("POST", f"{PREFIX}/counters/reset", "Emulator.ResetCounters", self.reset_counters, signed=False),
            Route("GET", f"{PREFIX}/faults", "Emulator.ListFaults", self.list_faults, signed=False),
            Route("PUT", f"{PREFIX}/faults", "Emulator.InjectFault", self.inject_fault, signed=False),
            Route("DELETE", f"{PREFIX}/faults", "Emulator.ClearFaults", self.clear_faults, signed=False),
        ]
        if self._stream_throttle is not None:
            throttle = f"{PREFIX}/stream-throttle"
            routes.append(Route("GET", throttle, "Emulator.GetStreamThrottle", self.get_throttle, signed=False))
            routes.append(Route("PUT", throttle, "Emulator.SetStreamThrottle", self.set_throttle, signed=False))
        return routes

    def health(self, request: ApiRequest) -> ApiResponse:
        return ApiResponse(body={"status": "ok"})

    def get_counters(self, request: ApiRequest) -> ApiResponse:
        return ApiResponse(body={"counters": self._counters.snapshot()})

    def get_bytes(self, request: ApiRequest) -> ApiResponse:
        served = self._counters.bytes_snapshot()
        return ApiResponse(body={"bytes": {op: {"body": b.body, "payload": b.payload} for op, b in served.items()}})

    def reset_counters(self, request: ApiRequest) -> ApiResponse:
        self._counters.reset()
        return ApiResponse(status=204)

    def list_faults(self, request: ApiRequest) -> ApiResponse:
        return ApiResponse(body={"faults": [_rule_json(rule) for rule in self._faults.active()]})

    def inject_fault(self, request: ApiRequest) -> ApiResponse:
        body = request.json_body()
        unknown = sorted(set(body) - _FAULT_FIELDS)
        if unknown:
            raise InvalidParameter(f"unknown fault fields {unknown}; allowed: {sorted(_FAULT_FIELDS)}")
        try:
            rule = self._faults.inject(
                _typed(body, "status", int),
                code=_typed(body, "code", str),
                latency_seconds=float(_typed(body, "latency_seconds", (int, float)) or 0.0),
                operations=_operations(body),
                count=_typed(body, "count", int),
                reset_connection=bool(_typed(body, "reset_connection", bool)),
                retry_after_seconds=_optional_float(_typed(body, "retry_after_seconds", (int, float))),
            )
        except ValueError as error:
            raise InvalidParameter(str(error)) from error
        return ApiResponse(body=_rule_json(rule))

    def clear_faults(self, request: ApiRequest) -> ApiResponse:
        self._faults.clear()
        return ApiResponse(status=204)

    def get_throttle(self, request: ApiRequest) -> ApiResponse:
        assert self._stream_throttle is not None
        return ApiResponse(body={"enabled": self._stream_throttle.enabled})

    def set_throttle(self, request: ApiRequest) -> ApiResponse:
        assert self._stream_throttle is not None
        body = request.json_body()
        if set(body) != {"enabled"} or not isinstance(body["enabled"], bool):
            raise InvalidParameter('the body must be {"enabled": true} or {"enabled": false}')
        self._stream_throttle.set_enabled(body["enabled"])
        return ApiResponse(body={"enabled": self._stream_throttle.enabled})


def _typed(body: JsonObject, name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidParameter(f"fault field {name} has the wrong type: {value!r}")
    return value


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _operations(body: JsonObject) -> frozenset[str] | None:
    value = body.get("operations")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidParameter("fault field operations must be an array of OCI operation names")
    return frozenset(value)


def _rule_json(rule: FaultRule) -> JsonObject:
    return {
        "id": rule.rule_id,
        "status": rule.status,
        "code": rule.code,
        "latency_seconds": rule.latency_seconds,
        "operations": None if rule.operations is None else sorted(rule.operations),
        "count": rule.count,
        "reset_connection": rule.reset_connection,
        "retry_after_seconds": rule.retry_after_seconds,
    }
