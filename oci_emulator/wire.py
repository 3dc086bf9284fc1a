"""Wire-format helpers shared by the emulated APIs: RFC 3339 times, query parameters, JSON field validation, paging.

OCI reports every problem of a request body at once with 400 InvalidParameter (or MissingParameter when fields are
absent); ``FieldReader`` collects problems while a handler reads the fields so one response names them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from .errors import InvalidParameter, MissingParameter
from .routing import ApiRequest
from .settings import (
    CHANNEL_CONSUMPTION_LIMIT,
    DEAD_LETTER_QUEUE_DELIVERY_COUNT,
    RETENTION_IN_SECONDS,
    TIMEOUT_IN_SECONDS,
    VISIBILITY_IN_SECONDS,
    IntRange,
    QueueSettings,
)

T = TypeVar("T")


def rfc3339(moment: datetime) -> str:
    """``2024-05-01T12:00:00.123Z``: UTC with millisecond precision, as OCI renders datetimes."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def query_int(request: ApiRequest, name: str, bounds: IntRange) -> int | None:
    """An optional integer query parameter within ``bounds``, or raise InvalidParameter."""
    raw = request.query_value(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name} must be an integer, got '{raw}'") from None
    if not bounds.minimum <= value <= bounds.maximum:
        raise InvalidParameter(f"{name} must be between {bounds.minimum} and {bounds.maximum}, got {value}")
    return value


def query_str(request: ApiRequest, name: str, *, max_length: int = 1024) -> str | None:
    """An optional non-empty string query parameter, or raise InvalidParameter."""
    raw = request.query_value(name)
    if raw is None:
        return None
    if not raw or len(raw) > max_length:
        raise InvalidParameter(f"{name} must be 1 to {max_length} characters long")
    return raw


def or_default(value: T | None, fallback: T) -> T:
    """``value`` unless it is None (an absent optional field)."""
    return fallback if value is None else value


def paginate(items: Sequence[T], *, limit: int, page: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` and the ``opc-next-page`` token (None on the last page)."""
    start = 0
    if page is not None:
        if not page.isdigit() or int(page) > len(items):
            raise InvalidParameter(f"page token '{page}' is not valid; pass the opc-next-page value of a response")
        start = int(page)
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else None)


class FieldReader:
    """Reads fields of one JSON object, collecting every problem; call ``finish()`` to raise them together."""

    def __init__(self, document: Mapping[str, Any], where: str) -> None:
        self._document = document
        self._where = where
        self._missing: list[str] = []
        self._invalid: list[str] = []

    def child(self, document: Any, where: str) -> FieldReader | None:
        """A reader for a nested object sharing this reader's problem list (None, with a problem, if not an object)."""
        if not isinstance(document, Mapping):
            self._invalid.append(f"{where} must be a JSON object")
            return None
        reader = FieldReader(document, where)
        reader._missing = self._missing
        reader._invalid = self._invalid
        return reader

    def _name(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def _get(self, name: str, required: bool) -> Any:
        value = self._document.get(name)
        if value is None and required:
            self._missing.append(f"{self._name(name)} is required")
        return value

    def string(self, name: str, *, required: bool = False, length: IntRange | None = None) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self._invalid.append(f"{self._name(name)} must be a string")
            return None
        if length is not None and not length.minimum <= len(value) <= length.maximum:
            self._invalid.append(f"{self._name(name)} must be {length.minimum} to {length.maximum} characters long")
            return None
        return value

    def integer(self, name: str, *, required: bool = False, bounds: IntRange | None = None) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._invalid.append(f"{self._name(name)} must be an integer")
            return None
        if bounds is not None and not bounds.minimum <= value <= bounds.maximum:
            self._invalid.append(
                f"{self._name(name)} must be between {bounds.minimum} and {bounds.maximum}, got {value}"
            )
            return None
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            self._invalid.append(f"{self._name(name)} must be true or false")
            return None
        return value

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        """An RFC 3339 date-time (``Z`` or an offset; a time without one is taken as UTC)."""
        value = self.string(name, required=required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self._invalid.append(f"{self._name(name)} must be an RFC 3339 date-time, got '{value}'")
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def choice(self, name: str, allowed: Sequence[str], *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        if value is not None and value not in allowed:
            self._invalid.append(f"{self._name(name)} must be one of {', '.join(allowed)}, got '{value}'")
            return None
        return value

    def array(self, name: str, *, required: bool = False) -> list[Any] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self._invalid.append(f"{self._name(name)} must be a JSON array")
            return None
        return value

    def string_map(self, name: str) -> dict[str, str] | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self._invalid.append(f"{self._name(name)} must be an object of string values")
            return None
        return dict(value)

    def nested_map(self, name: str) -> dict[str, dict[str, object]] | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            self._invalid.append(f"{self._name(name)} must be an object of objects")
            return None
        return {key: dict(inner) for key, inner in value.items()}

    def problem(self, sentence: str) -> None:
        """Record a problem found by the caller (cross-field checks)."""
        self._invalid.append(sentence)

    def finish(self) -> None:
        """Raise MissingParameter when only required fields are absent, else InvalidParameter listing every problem."""
        if self._invalid:
            raise InvalidParameter("; ".join(self._invalid + self._missing))
        if self._missing:
            raise MissingParameter("; ".join(self._missing))


def read_queue_settings(fields: FieldReader) -> QueueSettings:
    """The settings of a CreateQueueDetails-shaped object (a CreateQueue body or a seed-file queue), defaults filled."""
    defaults = QueueSettings()
    return QueueSettings(
        retention_in_seconds=or_default(
            fields.integer("retentionInSeconds", bounds=RETENTION_IN_SECONDS), defaults.retention_in_seconds
        ),
        visibility_in_seconds=or_default(
            fields.integer("visibilityInSeconds", bounds=VISIBILITY_IN_SECONDS), defaults.visibility_in_seconds
        ),
        timeout_in_seconds=or_default(
            fields.integer("timeoutInSeconds", bounds=TIMEOUT_IN_SECONDS), defaults.timeout_in_seconds
        ),
        dead_letter_queue_delivery_count=or_default(
            fields.integer("deadLetterQueueDeliveryCount", bounds=DEAD_LETTER_QUEUE_DELIVERY_COUNT),
            defaults.dead_letter_queue_delivery_count,
        ),
        channel_consumption_limit=or_default(
            fields.integer("channelConsumptionLimit", bounds=CHANNEL_CONSUMPTION_LIMIT),
            defaults.channel_consumption_limit,
        ),
        custom_encryption_key_id=fields.string("customEncryptionKeyId"),
    )
