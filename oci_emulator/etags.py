"""Entity tags: ``etag`` on what the control plane returns, ``if-match`` honoured on what changes or removes it.

OCI lets a client say "change this only if nobody has since I read it": GetQueue and GetStream (and UpdateQueue's
answer) carry an ``etag``, and an UpdateQueue, DeleteQueue, PurgeQueue or DeleteStream whose ``if-match`` names
another version answers 412 NoEtagMatch and changes nothing. Tools built on that (Terraform,
Oracle's CLI with ``--if-match``) must meet the same refusal here as in a tenancy.

The tag is a digest of the resource as the API renders it, so it changes exactly when what a client can read
changes (a setting, a tag, the lifecycle state), with no version counter to keep in step with the lifecycle
transitions the stores apply lazily on the clock. A check and the write it guards run under one lock
(``Conditional``) so two writers holding the same tag cannot both succeed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Final

from .errors import NoEtagMatch
from .routing import ApiRequest

NO_ETAG_MATCH: Final = "The ETag specified in the request does not match the ETag for the resource."
"""OCI's description of 412 NoEtagMatch (API Errors reference)."""


def etag(rendered: object) -> str:
    """The entity tag of a resource, from its rendered JSON: equal renderings, equal tags."""
    canonical = json.dumps(rendered, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Conditional:
    """Runs ``if-match`` checks and the writes they guard one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def write(self, request: ApiRequest, current: Callable[[], str]) -> Iterator[None]:
        """Hold the lock; raise NoEtagMatch when ``if-match`` is given and is not ``current()``'s tag."""
        with self._lock:
            expected = request.headers.get("if-match")
            if expected is not None and expected.strip('"') != current():
                raise NoEtagMatch(NO_ETAG_MATCH)
            yield
