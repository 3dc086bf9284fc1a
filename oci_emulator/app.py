"""The request pipeline between the socket and the API handlers: route, count, authenticate, inject faults, handle.

Keeping the pipeline free of sockets means its ordering (the part tests reason about) is in one short function:
a request that matched an OCI route is always counted, even when it then fails authentication or an injected fault
answers it, and the body bytes of its answer are added to its operation once encoded; an injected fault is decided
before the handler runs, so it never half-applies an operation; every response carries ``opc-request-id`` (the
client's, echoed, or a fresh one) and OCI's ``{"code", "message"}`` body on errors.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlsplit

from .auth import SignatureVerifier, SignedRequest
from .errors import ApiError, NotAuthorizedOrNotFound, default_code
from .faults import FaultInjector, RequestCounters
from .routing import ApiRequest, ApiResponse, Router

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRequest:
    """A raw request as read from the socket; header names lower-case, ``target`` the request-line target."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


@dataclass(frozen=True)
class DropConnection:
    """Close the socket without answering (an injected connection reset)."""

    reason: str = field(default="injected fault")


@dataclass
class _Counted:
    """The OCI operation a request was counted under, once routed (control requests are never counted)."""

    operation: str | None = None


class EmulatorApp:
    """Turns ``HttpRequest`` into ``HttpResponse`` (or ``DropConnection``)."""

    def __init__(
        self,
        *,
        services: Router,
        control: Router,
        verifier: SignatureVerifier,
        faults: FaultInjector,
        counters: RequestCounters,
        stopping: threading.Event,
    ) -> None:
        self._services = services
        self._control = control
        self._verifier = verifier
        self._faults = faults
        self._counters = counters
        self._stopping = stopping

    def handle(self, request: HttpRequest) -> HttpResponse | DropConnection:
        request_id = request.headers.get("opc-request-id") or uuid.uuid4().hex.upper()
        counted = _Counted()
        try:
            outcome = self._dispatch(request, counted)
        except ApiError as error:
            outcome = error_response(error.status, error.code, error.message)
        except Exception:
            logger.exception("unexpected failure handling %s %s", request.method, request.target)
            outcome = error_response(500, "InternalServerError", "the emulator failed; see its log")
        if isinstance(outcome, DropConnection):
            return outcome
        response = _encode(outcome, request_id)
        if counted.operation is not None:
            self._counters.add_bytes(counted.operation, body=len(response.body))
        return response

    def _dispatch(self, request: HttpRequest, counted: _Counted) -> ApiResponse | DropConnection:
        split = urlsplit(request.target)
        query = {name: tuple(values) for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        control = self._control.match(request.method, split.path)
        match = control or self._services.match(request.method, split.path)
        if match is None:
            raise NotAuthorizedOrNotFound(f"no {request.method} operation at {split.path}")
        route = match.route
        if control is None:
            self._counters.increment(route.operation)
            counted.operation = route.operation
        if route.signed:
            signed = SignedRequest(request.method, request.target, request.headers, request.body)
            self._verifier.verify(signed, sign_body=route.sign_body)
        if control is None:
            decision = self._faults.decide(route.operation)
            if decision.latency_seconds > 0:
                self._stopping.wait(decision.latency_seconds)
            if decision.reset_connection:
                logger.debug("dropping connection for %s (injected fault)", route.operation)
                return DropConnection()
            if decision.status is not None:
                code = decision.code or default_code(decision.status)
                response = error_response(decision.status, code, f"injected fault for {route.operation}")
                if decision.retry_after_seconds is not None:
                    response = replace(response, headers={"retry-after": f"{decision.retry_after_seconds:g}"})
                return response
        api_request = ApiRequest(
            method=request.method,
            path=split.path,
            query=query,
            headers=request.headers,
            body=request.body,
            params=match.params,
        )
        return route.handler(api_request)


def error_response(status: int, code: str, message: str) -> ApiResponse:
    return ApiResponse(status=status, body={"code": code, "message": message})


def _encode(response: ApiResponse, request_id: str) -> HttpResponse:
    headers = [("opc-request-id", request_id)]
    headers += [(name, value) for name, value in response.headers.items()]
    if response.body is None:
        body = b""
    else:
        body = json.dumps(response.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if response.status != 204:
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status=response.status, headers=tuple(headers), body=body)
