"""Transport-neutral request/response values and a path-template router.

Each emulated OCI API (Queue admin and data, Streaming admin and data) contributes a list of ``Route`` objects from its
own module (``queue_admin_api``, ``queue_data_api``, ``stream_admin_api``, ``stream_data_api``; ``wiring`` joins them);
the router only matches ``METHOD /path/{param}`` templates and names the OCI operation, which is what counters, fault
injection and signature policy key on. Handlers receive an ``ApiRequest`` and return an ``ApiResponse``, so they can
be exercised without sockets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .errors import InvalidParameter, MethodNotAllowed

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ApiRequest:
    """One routed request. ``query`` values are decoded; ``params`` are the decoded path template values."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)

    def query_value(self, name: str) -> str | None:
        """The first value of a query parameter, or None when absent."""
        values = self.query.get(name)
        return values[0] if values else None

    def json_body(self) -> JsonObject:
        """The body as a JSON object, or raise InvalidParameter."""
        if not self.body:
            raise InvalidParameter("the request body is empty; a JSON object is required")
        try:
            document = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidParameter(f"the request body is not valid JSON: {error}") from error
        if not isinstance(document, dict):
            raise InvalidParameter("the request body must be a JSON object")
        return document


@dataclass(frozen=True)
class ApiResponse:
    """A response before encoding: ``body`` None means an empty body."""

    status: int = 200
    body: object | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], ApiResponse]


@dataclass(frozen=True)
class Route:
    """``method`` + path ``template`` (``{name}`` segments capture) served by ``handler`` as OCI ``operation``."""

    method: str
    template: str
    operation: str
    handler: Handler
    signed: bool = True
    """Whether the request must carry a valid OCI signature."""
    sign_body: bool = True
    """Whether POST/PUT must sign the body headers (the Streaming PutMessages exception sets False)."""

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.strip("/").split("/"))


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    params: Mapping[str, str]


class Router:
    """Matches request paths against route templates; literal segments win over parameters."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._routes: list[Route] = []
        self.include(routes)

    def include(self, routes: Iterable[Route]) -> None:
        self._routes.extend(routes)

    @property
    def operations(self) -> frozenset[str]:
        return frozenset(route.operation for route in self._routes)

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The best route for ``method`` and the raw (still percent-encoded) ``path``.

        Returns None when no template matches the path; raises MethodNotAllowed when one does but not for ``method``.
        """
        segments = tuple(path.strip("/").split("/"))
        candidates: list[tuple[tuple[int, ...], Route, dict[str, str]]] = []
        for route in self._routes:
            params = _match_segments(route.segments, segments)
            if params is not None:
                rank = tuple(1 if part.startswith("{") else 0 for part in route.segments)
                candidates.append((rank, route, params))
        if not candidates:
            return None
        allowed = [c for c in candidates if c[1].method == method]
        if not allowed:
            methods = ", ".join(sorted({c[1].method for c in candidates}))
            raise MethodNotAllowed(f"{method} is not supported on {path}; use {methods}")
        _, route, params = min(allowed, key=lambda c: c[0])
        return RouteMatch(route=route, params=params)


def _match_segments(template: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return params
