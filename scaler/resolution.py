"""From a KEDA ``ScaledObjectRef`` to the trigger it names: parsed once, then served from memory.

KEDA repeats the same few thousand refs for ever, three RPCs per poll, so parsing metadata on every call would be
the RPC path's largest cost. The parsed result (or the metadata error) is kept per ref, keyed on the ref's
canonical bytes (map keys sorted): cheaper than building a sorted key, and it keeps name and namespace with it.
The keys of each ScaledObject are indexed by (namespace, name) too, so a ScaledObject that stopped asking is
forgotten whole (scaler.forgetting), whatever metadata versions it went through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scaler._proto import externalscaler_pb2 as pb
from scaler.bounded import FLEET_CAPACITY, Bounded
from scaler.errors import MetadataError
from scaler.metadata import TriggerConfig, parse_metadata
from scaler.naming import metric_name

UnknownKeys = Callable[[str, str, tuple[str, ...]], None]
"""Told (namespace, name, keys) when a ref's metadata holds keys nobody declared; called once per parse."""


@dataclass(frozen=True)
class Resolved:
    """A request resolved to its ScaledObject identity, parsed trigger and metric name."""

    namespace: str
    name: str
    config: TriggerConfig
    metric_name: str


class Resolver:
    """Parses each distinct ref once; remembers the answer, good or bad, for the most recently used refs."""

    def __init__(self, *, on_unknown_keys: UnknownKeys, capacity: int = FLEET_CAPACITY) -> None:
        self._on_unknown_keys = on_unknown_keys
        self._resolved: Bounded[bytes, Resolved | MetadataError] = Bounded(capacity)
        self._keys_of: dict[tuple[str, str], set[bytes]] = {}

    def __len__(self) -> int:
        return len(self._resolved)

    def resolve(self, ref: pb.ScaledObjectRef) -> Resolved | MetadataError:
        """The trigger ``ref`` names, or the error listing every problem of its metadata (returned, not raised:
        the same error object is served to every repeat of a bad ref, and raising it again would grow its
        traceback each time)."""
        key = ref.SerializeToString(deterministic=True)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = self._parse(ref)
            self._resolved.put(key, resolved)
            self._keys_of.setdefault((ref.namespace, ref.name), set()).add(key)
        return resolved

    def forget(self, namespace: str, name: str) -> None:
        """Drop every parsed ref of this ScaledObject."""
        for key in self._keys_of.pop((namespace, name), ()):
            self._resolved.discard(key)

    def _parse(self, ref: pb.ScaledObjectRef) -> Resolved | MetadataError:
        try:
            parsed = parse_metadata(dict(ref.scalerMetadata))
        except MetadataError as exc:
            return exc
        if parsed.unknown_keys:
            self._on_unknown_keys(ref.namespace, ref.name, parsed.unknown_keys)
        config = parsed.config
        return Resolved(ref.namespace, ref.name, config, metric_name(config.ref))
