"""Trigger metadata: declared once, parsed into frozen values, every problem reported at once.

KEDA forwards a ScaledObject trigger's ``metadata`` map verbatim in every RPC. Users debug it from
``kubectl describe scaledobject`` events, so problems are reported in the grammar of KEDA's own typed config
parser (``missing required parameter "queueId"``) and all together, not one per reconcile. The ``PARAMS``
table is the single declaration: the parser, the README table and the tests read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from scaler.errors import MetadataError


class Kind(Enum):
    """How a metadata value is parsed."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"


SOURCE_QUEUE: Final = "oci-queue"
SOURCE_STREAMING: Final = "oci-streaming"


@dataclass(frozen=True)
class Param:
    """One metadata key: its type, default, allowed values and range are its documentation."""

    name: str
    kind: Kind
    doc: str
    default: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    """Inclusive lower bound, unless ``exclusive_minimum``."""
    exclusive_minimum: bool = False
    maximum: float | None = None
    sources: tuple[str, ...] = ()
    """Sources this key applies to; empty means every source. Required-ness is per source."""


PARAMS: Final[tuple[Param, ...]] = (
    Param("source", Kind.STRING, "Where the backlog is read.", required=True, choices=(SOURCE_QUEUE, SOURCE_STREAMING)),
    Param("queueId", Kind.STRING, "OCID of the OCI Queue.", required=True, sources=(SOURCE_QUEUE,)),
    Param(
        "channelId",
        Kind.STRING,
        "Count only this channel's messages (GetStats `channelId`).",
        sources=(SOURCE_QUEUE,),
    ),
    Param(
        "includeInFlight",
        Kind.BOOL,
        "Count in-flight (received, not yet deleted) messages as backlog.",
        default="true",
        sources=(SOURCE_QUEUE,),
    ),
    Param("streamId", Kind.STRING, "OCID of the OCI Stream.", required=True, sources=(SOURCE_STREAMING,)),
    Param(
        "groupName",
        Kind.STRING,
        "Consumer group whose uncommitted messages are the backlog (read only: never joined, never committed).",
        required=True,
        sources=(SOURCE_STREAMING,),
    ),
    Param(
        "uncommittedOffset",
        Kind.STRING,
        "Where a partition the group never committed starts: `latest` (no lag) or `earliest` (all retained messages).",
        default="latest",
        choices=("earliest", "latest"),
        sources=(SOURCE_STREAMING,),
    ),
    Param(
        "allowIdleConsumers",
        Kind.BOOL,
        "Allow more replicas than partitions (the extra consumers would receive nothing).",
        default="false",
        sources=(SOURCE_STREAMING,),
    ),
    Param(
        "excludePersistentLag",
        Kind.BOOL,
        "Ignore lag of partitions whose committed offset did not move since the previous read (a stuck consumer).",
        default="false",
        sources=(SOURCE_STREAMING,),
    ),
    Param(
        "partitionLimitation",
        Kind.STRING,
        "Only count these partitions: comma-separated ids and ranges, e.g. `0,2,4-7`.",
        sources=(SOURCE_STREAMING,),
    ),
    Param(
        "messagesEndpoint",
        Kind.STRING,
        "Data-plane endpoint; skips the GetQueue lookup.",
    ),
    Param(
        "targetBacklogPerReplica",
        Kind.FLOAT,
        "Backlog one replica should carry (the HPA AverageValue target).",
        default="10",
        minimum=0,
        exclusive_minimum=True,
    ),
    Param(
        "activationBacklog",
        Kind.FLOAT,
        "Active iff backlog is strictly greater than this.",
        default="0",
        minimum=0,
    ),
    Param(
        "policy",
        Kind.STRING,
        "`backlog`: ceil(backlog / target), as KEDA. `drain`: enough replicas to drain the backlog within "
        "`drainSeconds` at the observed arrival rate.",
        default="backlog",
        choices=("backlog", "drain"),
    ),
    Param(
        "drainSeconds",
        Kind.FLOAT,
        "`drain` policy: the backlog should be gone within this many seconds.",
        default="60",
        minimum=0,
        exclusive_minimum=True,
    ),
    Param(
        "throughputPerReplica",
        Kind.FLOAT,
        "`drain` policy: messages/s one replica processes; estimated from backlog readings when unset.",
        minimum=0,
        exclusive_minimum=True,
    ),
    Param(
        "leadSeconds",
        Kind.FLOAT,
        "`tier: managed`: size for the backlog this many seconds ahead on its current rising trend "
        "(Karpenter needs time to add nodes).",
        default="0",
        minimum=0,
    ),
    Param(
        "tier",
        Kind.STRING,
        "Consumer tier: `virtual` (stateless, virtual nodes) or `managed` (Karpenter / managed nodes).",
        choices=("managed", "virtual"),
    ),
    Param(
        "maxReplicas",
        Kind.INT,
        "The scaler's own replica cap; the metric is capped so HPA lands exactly on it.",
        minimum=1,
    ),
    Param(
        "group",
        Kind.STRING,
        "Spill-over group: one `managed` and one `virtual` ScaledObject on the same source and namespace.",
    ),
    Param(
        "managedMaxReplicas",
        Kind.INT,
        "`tier: virtual` in a group: the managed member's cap, for pure overflow when the Kubernetes API is "
        "unreachable (read from the managed ScaledObject otherwise).",
        minimum=0,
    ),
)

KEDA_OWN_KEYS: Final[frozenset[str]] = frozenset(
    {"scalerAddress", "enableTLS", "unsafeSsl", "caCert", "tlsClientCert", "tlsClientKey"}
)
"""Keys KEDA reads itself and forwards anyway; never warned about."""

_FROM_ENV_SUFFIX: Final = "FromEnv"
_TRUE: Final = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "f", "false", "no", "n", "off"})


DEFAULT_MAX_REPLICAS: Final = 100
"""KEDA's default maxReplicaCount; bounds Streaming read-ahead when the trigger sets no maxReplicas."""


@dataclass(frozen=True)
class QueueRef:
    """Identity of one OCI Queue read: everything that changes what GetStats returns."""

    queue_id: str
    channel_id: str | None
    messages_endpoint: str | None


@dataclass(frozen=True)
class StreamRef:
    """Identity of one OCI Streaming lag read: everything that changes what the read returns or costs."""

    stream_id: str
    group_name: str
    messages_endpoint: str | None
    start_uncommitted_at_earliest: bool
    partitions: tuple[str, ...] | None
    """Only these partitions (``partitionLimitation``); None means all."""
    read_cap: int
    """Stop counting a partition's lag here: nothing beyond target x max replicas changes the decision."""


SourceRef = QueueRef | StreamRef


@dataclass(frozen=True)
class TriggerConfig:
    """A parsed trigger: which source to read and how to turn its backlog into a metric."""

    ref: SourceRef
    include_in_flight: bool
    """Queue: count in-flight messages."""
    allow_idle_consumers: bool
    """Streaming: replicas may exceed the partition count."""
    exclude_persistent_lag: bool
    target_backlog_per_replica: float
    activation_backlog: float
    tier: str | None
    max_replicas: int | None
    policy: str = "backlog"
    drain_seconds: float = 60.0
    throughput_per_replica: float | None = None
    lead_seconds: float = 0.0
    group: str | None = None
    managed_max_replicas: int | None = None

    @property
    def source(self) -> str:
        return SOURCE_QUEUE if isinstance(self.ref, QueueRef) else SOURCE_STREAMING


@dataclass(frozen=True)
class ParsedMetadata:
    """The config plus the keys nobody declared (the caller decides how loudly to warn)."""

    config: TriggerConfig
    unknown_keys: tuple[str, ...]


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


def _parse_int(raw: str) -> int:
    try:
        return int(raw, 10)
    except ValueError:
        raise ValueError("expected an integer") from None


def _parse_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


_PARSERS: Final[Mapping[Kind, Callable[[str], object]]] = {
    Kind.STRING: str,
    Kind.INT: _parse_int,
    Kind.FLOAT: _parse_float,
    Kind.BOOL: _parse_bool,
}


def _range_problem(param: Param, raw: str, value: float) -> str | None:
    prefix = f"parameter {_q(param.name)} value {_q(raw)} must be"
    if param.minimum is not None:
        if param.exclusive_minimum and not value > param.minimum:
            return f"{prefix} > {param.minimum:g}"
        if not param.exclusive_minimum and value < param.minimum:
            return f"{prefix} >= {param.minimum:g}"
    if param.maximum is not None and value > param.maximum:
        return f"{prefix} <= {param.maximum:g}"
    return None


def _lookup(metadata: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or of ``nameFromEnv`` (KEDA resolves those from the target's env before sending)."""
    for key in (name, name + _FROM_ENV_SUFFIX):
        raw = metadata.get(key)
        if raw is not None and raw.strip() != "":
            return raw.strip()
    return None


def _q(text: str) -> str:
    """Go's %q for the plain strings found in metadata."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_metadata(metadata: Mapping[str, str]) -> ParsedMetadata:
    """Parse a trigger's metadata; raise MetadataError listing every problem."""
    problems: list[str] = []
    values: dict[str, object] = {}
    source = _lookup(metadata, "source")
    for param in PARAMS:
        applies = not param.sources or source in param.sources
        raw = _lookup(metadata, param.name)
        if raw is None:
            if param.required and applies:
                problems.append(f"missing required parameter {_q(param.name)}")
                continue
            raw = param.default
            if raw is None:
                values[param.name] = None
                continue
        if param.choices and raw not in param.choices:
            problems.append(f"parameter {_q(param.name)} value {_q(raw)} must be one of [{' '.join(param.choices)}]")
            continue
        try:
            value = _PARSERS[param.kind](raw)
        except ValueError as exc:
            problems.append(f"unable to set param {_q(param.name)} value {_q(raw)}: {exc}")
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            problem = _range_problem(param, raw, float(value))
            if problem is not None:
                problems.append(problem)
                continue
        values[param.name] = value
    if values.get("leadSeconds") and values.get("tier") != "managed":
        problems.append(f"parameter {_q('leadSeconds')} requires tier {_q('managed')}")
    if values.get("group") is not None and values.get("tier") is None:
        problems.append(f"parameter {_q('group')} requires parameter {_q('tier')}")
    limitation = values.get("partitionLimitation")
    if isinstance(limitation, str) and source == SOURCE_STREAMING:
        try:
            values["partitionLimitation"] = parse_partitions(limitation)
        except ValueError as exc:
            problems.append(f"unable to set param {_q('partitionLimitation')} value {_q(limitation)}: {exc}")
    if problems:
        raise MetadataError(problems)
    declared = {p.name for p in PARAMS}
    unknown = tuple(
        sorted(
            key
            for key in metadata
            if key not in declared
            and key not in KEDA_OWN_KEYS
            and not (key.endswith(_FROM_ENV_SUFFIX) and key[: -len(_FROM_ENV_SUFFIX)] in declared)
        )
    )
    return ParsedMetadata(config=_build(values), unknown_keys=unknown)


def _build(values: Mapping[str, object]) -> TriggerConfig:
    """Assemble the typed config; values were validated against PARAMS, so the casts only restate that."""

    def text(name: str) -> str | None:
        value = values.get(name)
        return value if isinstance(value, str) else None

    max_replicas = values.get("maxReplicas")
    replicas = max_replicas if isinstance(max_replicas, int) else None
    target = float(str(values["targetBacklogPerReplica"]))
    endpoint = (text("messagesEndpoint") or "").rstrip("/") or None
    ref: SourceRef
    if values["source"] == SOURCE_STREAMING:
        partitions = values.get("partitionLimitation")
        ref = StreamRef(
            stream_id=str(values["streamId"]),
            group_name=str(values["groupName"]),
            messages_endpoint=endpoint,
            start_uncommitted_at_earliest=values["uncommittedOffset"] == "earliest",
            partitions=partitions if isinstance(partitions, tuple) else None,
            read_cap=math.ceil(target * (replicas or DEFAULT_MAX_REPLICAS)) + 1,
        )
    else:
        ref = QueueRef(queue_id=str(values["queueId"]), channel_id=text("channelId"), messages_endpoint=endpoint)
    return TriggerConfig(
        ref=ref,
        include_in_flight=bool(values.get("includeInFlight")),
        allow_idle_consumers=bool(values.get("allowIdleConsumers")),
        exclude_persistent_lag=bool(values.get("excludePersistentLag")),
        target_backlog_per_replica=target,
        activation_backlog=float(str(values["activationBacklog"])),
        tier=text("tier"),
        max_replicas=replicas,
        policy=str(values["policy"]),
        drain_seconds=float(str(values["drainSeconds"])),
        throughput_per_replica=_optional_float(values.get("throughputPerReplica")),
        lead_seconds=float(str(values["leadSeconds"])),
        group=text("group"),
        managed_max_replicas=_optional_int(values.get("managedMaxReplicas")),
    )


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_partitions(text: str) -> tuple[str, ...]:
    """``"0,2,4-6"`` → ``("0", "2", "4", "5", "6")``; the order and duplicates of the input do not matter."""
    found: set[int] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        low, dash, high = item.partition("-")
        try:
            first = int(low, 10)
            last = int(high, 10) if dash else first
        except ValueError:
            raise ValueError(f"expected partition ids or ranges like 0,2,4-7, got {_q(item)}") from None
        if first < 0 or last < first:
            raise ValueError(f"invalid partition range {_q(item)}")
        if last - first > 10_000:
            raise ValueError(f"partition range {_q(item)} is too large")
        found.update(range(first, last + 1))
    if not found:
        raise ValueError("expected at least one partition id")
    return tuple(str(p) for p in sorted(found))


def render_table() -> str:
    """The README metadata table, generated from PARAMS so the docs cannot drift from the parser."""
    rows = ["| key | type | default | sources | meaning |", "|---|---|---|---|---|"]
    for param in PARAMS:
        default = "required" if param.required else (f"`{param.default}`" if param.default is not None else "-")
        allowed = f" One of: {', '.join(f'`{c}`' for c in param.choices)}." if param.choices else ""
        sources = ", ".join(param.sources) or "all"
        rows.append(f"| `{param.name}` | {param.kind.value} | {default} | {sources} | {param.doc}{allowed} |")
    return "\n".join(rows)


TABLE_START: Final = "<!-- metadata-table:start -->"
TABLE_END: Final = "<!-- metadata-table:end -->"


def splice_table(document: str, table: str) -> str:
    """Replace the text between the README's table markers; the markers must exist exactly once."""
    before, start, rest = document.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError(f"document lacks the {TABLE_START} / {TABLE_END} markers")
    return f"{before}{TABLE_START}\n{table}\n{TABLE_END}{after}"
