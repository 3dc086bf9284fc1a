"""Path-template routing."""

from __future__ import annotations

import pytest

from oci_emulator.errors import MethodNotAllowed
from oci_emulator.routing import ApiRequest, ApiResponse, Route, Router


def handler(request: ApiRequest) -> ApiResponse:
    return ApiResponse()


ROUTER = Router(
    [
        Route("PUT", "/v/queues/{queueId}/messages/{receipt}", "UpdateMessage", handler),
        Route("POST", "/v/queues/{queueId}/messages/actions/updateMessages", "UpdateMessages", handler),
        Route("POST", "/v/queues/{queueId}/messages/{receipt}", "Imaginary", handler),
    ]
)


def test_literal_segments_win_over_parameters() -> None:
    match = ROUTER.match("POST", "/v/queues/q1/messages/actions/updateMessages")

    assert match is not None
    assert match.route.operation == "UpdateMessages"
    assert match.params == {"queueId": "q1"}


def test_parameters_are_percent_decoded() -> None:
    match = ROUTER.match("PUT", "/v/queues/q%2F1/messages/abc")

    assert match is not None
    assert match.params == {"queueId": "q/1", "receipt": "abc"}


def test_unknown_path_and_wrong_method() -> None:
    assert ROUTER.match("GET", "/v/queues") is None
    assert ROUTER.match("PUT", "/v/queues//messages/abc") is None
    with pytest.raises(MethodNotAllowed, match="use POST, PUT"):
        ROUTER.match("GET", "/v/queues/q/messages/abc")
    assert ROUTER.operations == frozenset({"UpdateMessage", "UpdateMessages", "Imaginary"})
