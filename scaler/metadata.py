"""Trigger metadata: declared once on ``TriggerConfig``, parsed into frozen values, every problem reported at once.

KEDA forwards a ScaledObject trigger's ``metadata`` map verbatim in every RPC. Users debug it from
``kubectl describe scaledobject`` events, so problems are reported in the grammar of KEDA's own typed config
parser (``missing required parameter "queueId"``) and all together, not one per reconcile. Each field of
``TriggerConfig`` is one key, annotated with its ``Param`` (key, doc, range, sources; the type and default are
the field's own): the parser, the README table (``burst-scaler metadata-table``) and the tests all read that one
declaration through ``scaler.params``. Parsing does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Final

from scaler.errors import MetadataError
from scaler.params import Param, Spec, convert_values, declare, lookup, quote, read_values, undeclared
from scaler.params import render_table as _render
from scaler.partition_ids import parse_partitions as parse_partitions  # re-exported: tests and callers read it here
from scaler.queue_ids import QueueIds, parse_queue_ids
from scaler.values import Landing, Operation, Policy, SourceKind, Tier, UncommittedOffset

KEDA_OWN_KEYS: Final[frozenset[str]] = frozenset(
    {"scalerAddress", "enableTLS", "unsafeSsl", "caCert", "tlsClientCert", "tlsClientKey"}
)
"""Keys KEDA reads itself and forwards anyway; never warned about."""

DEFAULT_MAX_REPLICAS: Final = 100
"""KEDA's default maxReplicaCount; bounds Streaming read-ahead when the trigger sets no maxReplicas."""

_QUEUE: Final = (SourceKind.QUEUE,)
_STREAMING: Final = (SourceKind.STREAMING,)


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
    """Stop counting the stream's lag here (all partitions together): nothing beyond target x max replicas changes
    the decision."""
    persistent_after_polls: int = 1
    """Reads with an unchanged committed offset before a partition's lag is persistent (1 unless excluding it)."""


SourceRef = QueueRef | StreamRef


@dataclass(frozen=True)
class QueueSetRef:
    """A multi-queue trigger (``queueIds``): one QueueRef per queue, each read and shared on its own, so a queue
    costs one read per refresh whichever triggers name it."""

    queues: tuple[QueueRef, ...]
    operation: Operation


TriggerRef = SourceRef | QueueSetRef


def reads_of(ref: TriggerRef) -> tuple[SourceRef, ...]:
    """The refresh cache's keys behind a trigger's ref."""
    return ref.queues if isinstance(ref, QueueSetRef) else (ref,)


_LANDING_DOC: Final = (
    "Which count the HPA is steered to when the decided one lies inside its tolerance band (needs the target's "
    'current replicas from the Kubernetes API; README, "Landing past the HPA tolerance"). Unset: `down` for a '
    "group's virtual member, `hold` for its managed member, `off` (KEDA's semantics) otherwise."
)


@dataclass(frozen=True, kw_only=True)
class SourceKeys:
    """The keys that say what to read: the source and how its backlog is counted. Their own class only so that
    neither half of ``TriggerConfig`` outgrows the floor plan; the keys keep one order (these first)."""

    source: Annotated[SourceKind, Param("source", "Where the backlog is read.", required=True)]
    queue_id: Annotated[str | None, Param("queueId", "OCID of the OCI Queue.", required=True, sources=_QUEUE)] = None
    channel_id: Annotated[
        str | None, Param("channelId", "Count only this channel's messages (GetStats `channelId`).", sources=_QUEUE)
    ] = None
    include_in_flight: Annotated[
        bool,
        Param("includeInFlight", "Count in-flight (received, not yet deleted) messages as backlog.", sources=_QUEUE),
    ] = True
    queue_ids: Annotated[
        QueueIds | None,
        Param(
            "queueIds",
            "Several queues in one trigger, instead of `queueId`: comma-separated OCIDs, each optionally "
            "`OCID:channelId`. Each queue is read once per refresh, whichever triggers name it.",
            sources=_QUEUE,
            convert=parse_queue_ids,
            replaces="queueId",
        ),
    ] = None
    operation: Annotated[
        Operation, Param("operation", "`queueIds`: how the queues' backlogs combine into one.", sources=_QUEUE)
    ] = Operation.SUM
    poison_guard: Annotated[
        bool,
        Param(
            "poisonGuard",
            "Hold replicas at their current count instead of scaling up while a queue's dead-letter count grows "
            "and its backlog does not shrink over `poisonWindowSeconds` (scaling up would only burn money).",
            sources=_QUEUE,
        ),
    ] = False
    poison_window_seconds: Annotated[
        float,
        Param(
            "poisonWindowSeconds",
            "`poisonGuard`: the window over which DLQ growth and backlog are compared.",
            minimum=0,
            exclusive_minimum=True,
            sources=_QUEUE,
        ),
    ] = 60.0
    stream_id: Annotated[
        str | None, Param("streamId", "OCID of the OCI Stream.", required=True, sources=_STREAMING)
    ] = None
    group_name: Annotated[
        str | None,
        Param(
            "groupName",
            "Consumer group whose uncommitted messages are the backlog (read only: never joined, never committed).",
            required=True,
            sources=_STREAMING,
        ),
    ] = None
    uncommitted_offset: Annotated[
        UncommittedOffset,
        Param(
            "uncommittedOffset",
            "Where a partition the group never committed starts: `latest` (no lag) or `earliest` "
            "(all retained messages).",
            sources=_STREAMING,
        ),
    ] = UncommittedOffset.LATEST
    allow_idle_consumers: Annotated[
        bool,
        Param(
            "allowIdleConsumers",
            "Allow more replicas than partitions (the extra consumers would receive nothing).",
            sources=_STREAMING,
        ),
    ] = False
    exclude_persistent_lag: Annotated[
        bool,
        Param(
            "excludePersistentLag",
            "Ignore lag of partitions whose committed offset did not move since the previous read (a stuck consumer).",
            sources=_STREAMING,
        ),
    ] = False
    persistent_lag_threshold_polls: Annotated[
        int,
        Param(
            "persistentLagThresholdPolls",
            "`excludePersistentLag`: exclude a partition only after this many reads in a row with an unchanged "
            "committed offset (1: after one).",
            minimum=1,
            sources=_STREAMING,
        ),
    ] = 1
    partitions: Annotated[
        tuple[str, ...] | None,
        Param(
            "partitionLimitation",
            "Only count these partitions: comma-separated ids and ranges, e.g. `0,2,4-7`.",
            sources=_STREAMING,
            convert=parse_partitions,
        ),
    ] = None
    messages_endpoint: Annotated[
        str | None, Param("messagesEndpoint", "Data-plane endpoint; skips the GetQueue lookup.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class TriggerConfig(SourceKeys):
    """A parsed trigger: one field per metadata key, in the order users see them, plus the source it reads. The
    keys of what to read are ``SourceKeys``'; these say how many consumers the backlog needs."""

    target_backlog_per_replica: Annotated[
        float,
        Param(
            "targetBacklogPerReplica",
            "Backlog one replica should carry (the HPA AverageValue target).",
            minimum=0,
            exclusive_minimum=True,
        ),
    ] = 10.0
    activation_backlog: Annotated[
        float, Param("activationBacklog", "Active iff backlog is strictly greater than this.", minimum=0)
    ] = 0.0
    keep_alive_seconds: Annotated[
        float,
        Param(
            "keepAliveSeconds",
            "Stay active this long after the last reading that showed any message visible or in flight (Streaming: "
            "lag); each such reading extends the window, which only an active reading opens. `0`: off.",
            minimum=0,
        ),
    ] = 0.0
    policy: Annotated[
        Policy,
        Param(
            "policy",
            "`backlog`: ceil(backlog / target), as KEDA. `drain`: enough replicas to drain the backlog within "
            "`drainSeconds` at the observed arrival rate.",
        ),
    ] = Policy.BACKLOG
    drain_seconds: Annotated[
        float,
        Param(
            "drainSeconds",
            "`drain` policy: the backlog should be gone within this many seconds.",
            minimum=0,
            exclusive_minimum=True,
        ),
    ] = 60.0
    throughput_per_replica: Annotated[
        float | None,
        Param(
            "throughputPerReplica",
            "`drain` policy: messages/s one replica processes; estimated from backlog readings when unset.",
            minimum=0,
            exclusive_minimum=True,
        ),
    ] = None
    lead_seconds: Annotated[
        float,
        Param(
            "leadSeconds",
            "`tier: managed`: size for the backlog this many seconds ahead on its current rising trend "
            "(Karpenter needs time to add nodes).",
            minimum=0,
        ),
    ] = 0.0
    hold_seconds: Annotated[
        float,
        Param(
            "holdSeconds",
            "`tier: managed` in a `group`: bursts shorter than this stay on virtual nodes; a need sustained this "
            "long moves to managed nodes and is kept this long after it ends (cover your node launch time).",
            minimum=1,
            maximum=180,
        ),
    ] = 180.0
    managed_break_even: Annotated[
        int,
        Param(
            "managedBreakEven",
            "`tier: managed` in a `group`: the consumers a node must carry to cost less than on virtual nodes (node "
            "price / virtual pod price, rounded up; 3 at list prices for the shapes in deploy/). A sustained need "
            "below it stays on virtual nodes: no node for a pod or two. `1` moves any sustained need.",
            minimum=1,
        ),
    ] = 3
    tier: Annotated[
        Tier | None,
        Param(
            "tier",
            "Consumer tier: `virtual` (stateless, virtual nodes) or `managed` (Karpenter / managed nodes).",
        ),
    ] = None
    max_replicas: Annotated[
        int | None,
        Param(
            "maxReplicas",
            "The scaler's own replica cap; the metric is capped so HPA lands exactly on it.",
            minimum=1,
        ),
    ] = None
    group: Annotated[
        str | None,
        Param(
            "group",
            "Spill-over group: one `managed` and one `virtual` ScaledObject on the same source and namespace.",
        ),
    ] = None
    managed_max_replicas: Annotated[
        int | None,
        Param(
            "managedMaxReplicas",
            "`tier: virtual` in a group: the managed member's cap, for pure overflow when the Kubernetes API is "
            "unreachable (read from the managed ScaledObject otherwise).",
            minimum=0,
        ),
    ] = None
    landing: Annotated[Landing | None, Param("landing", _LANDING_DOC)] = None
    ref: TriggerRef = field(init=False, repr=False, compare=False)
    """The read this trigger needs, derived from the fields above: the refresh cache's key."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", _source_ref(self))


def _source_ref(config: TriggerConfig) -> TriggerRef:
    """The read a trigger needs, from its fields: the identity the refresh cache shares reads by."""
    endpoint = (config.messages_endpoint or "").rstrip("/") or None
    if config.source == SourceKind.STREAMING:
        if config.stream_id is None or config.group_name is None:
            raise ValueError("an oci-streaming trigger needs stream_id and group_name")
        replicas = config.max_replicas or DEFAULT_MAX_REPLICAS
        return StreamRef(
            stream_id=config.stream_id,
            group_name=config.group_name,
            messages_endpoint=endpoint,
            start_uncommitted_at_earliest=config.uncommitted_offset == UncommittedOffset.EARLIEST,
            partitions=config.partitions,
            read_cap=math.ceil(config.target_backlog_per_replica * replicas) + 1,
            persistent_after_polls=config.persistent_lag_threshold_polls if config.exclude_persistent_lag else 1,
        )
    if config.queue_ids is not None:
        queues = tuple(QueueRef(queue_id, channel, endpoint) for queue_id, channel in config.queue_ids)
        return QueueSetRef(queues=queues, operation=config.operation)
    if config.queue_id is None:
        raise ValueError("an oci-queue trigger needs queue_id")
    return QueueRef(queue_id=config.queue_id, channel_id=config.channel_id, messages_endpoint=endpoint)


SPECS: Final[tuple[Spec, ...]] = declare(TriggerConfig)
"""Every metadata key, in declaration order: what the parser checks and the README lists."""


@dataclass(frozen=True)
class ParsedMetadata:
    """The config plus the keys nobody declared (the caller decides how loudly to warn)."""

    config: TriggerConfig
    unknown_keys: tuple[str, ...]


def _cross_field_problems(values: Mapping[str, object]) -> list[str]:
    """Rules that tie two keys together; checked after each key on its own."""
    problems = []
    if values.get("lead_seconds") and values.get("tier") != Tier.MANAGED:
        problems.append(f"parameter {quote('leadSeconds')} requires tier {quote(Tier.MANAGED)}")
    if values.get("group") is not None and values.get("tier") is None:
        problems.append(f"parameter {quote('group')} requires parameter {quote('tier')}")
    if values.get("queue_ids") is not None:
        for key, name in (("queueId", "queue_id"), ("channelId", "channel_id")):
            if values.get(name) is not None:
                problems.append(
                    f"parameter {quote(key)} cannot be combined with {quote('queueIds')}; "
                    "list each queue there as OCID or OCID:channelId"
                )
    return problems


def parse_metadata(metadata: Mapping[str, str]) -> ParsedMetadata:
    """Parse a trigger's metadata; raise MetadataError listing every problem."""
    problems: list[str] = []
    source = lookup(metadata, "source")
    values = read_values(SPECS, metadata, source=source, problems=problems)
    problems += _cross_field_problems(values)
    convert_values(SPECS, values, source=source, problems=problems)
    if problems:
        raise MetadataError(problems)
    config = TriggerConfig(**values)  # type: ignore[arg-type]  # each value was checked against its field's type
    return ParsedMetadata(config=config, unknown_keys=undeclared(SPECS, metadata, ignored=KEDA_OWN_KEYS))


def render_table() -> str:
    """The README metadata table, generated from ``TriggerConfig`` so the docs cannot drift from the parser."""
    return _render(SPECS)


TABLE_START: Final = "<!-- metadata-table:start -->"
TABLE_END: Final = "<!-- metadata-table:end -->"


def splice_table(document: str, table: str) -> str:
    """Replace the text between the README's table markers; the markers must exist exactly once."""
    counts = (document.count(TABLE_START), document.count(TABLE_END))
    if counts != (1, 1):
        raise ValueError(f"document needs the {TABLE_START} / {TABLE_END} markers once each, has {counts}")
    before, _, rest = document.partition(TABLE_START)
    after = rest.partition(TABLE_END)[2]
    return f"{before}{TABLE_START}\n{table}\n{TABLE_END}{after}"
