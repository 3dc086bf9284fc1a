"""Metadata declared on the dataclass it parses into: the parser, the validator and the docs all read one table.

As in KEDA's typed scaler metadata (struct tags carry key, default, enum and range), each field of a frozen config
dataclass is annotated ``Annotated[T, Param(...)]`` and its dataclass default is the metadata default. ``declare``
turns those annotations into ``Spec`` rows once, at import; ``read_values`` validates a metadata map against them,
reporting every problem in the grammar of KEDA's own parser, and ``render_table`` documents them. The wire type
follows from the annotation: ``str``, ``int``, ``float``, ``bool``, or a ``StrEnum`` whose values are the choices.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated, Final, Union

_FROM_ENV_SUFFIX: Final = "FromEnv"
_TRUE: Final = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "f", "false", "no", "n", "off"})


class Kind(Enum):
    """How a metadata value is parsed (and what the README's type column says)."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"


@dataclass(frozen=True)
class Param:
    """One metadata key, attached to the config field it fills; its type and default come from the field."""

    key: str
    doc: str
    required: bool = False
    """Required for the sources in ``sources`` (every source when empty)."""
    replaces: str | None = None
    """A required key this one may stand in for (``queueIds`` for ``queueId``): given, the other is not required."""
    minimum: float | None = None
    """Inclusive lower bound, unless ``exclusive_minimum``."""
    exclusive_minimum: bool = False
    maximum: float | None = None
    sources: tuple[str, ...] = ()
    """Sources this key applies to; empty means every source. Required-ness is per source."""
    convert: Callable[[str], object] | None = None
    """For fields that are not plain values: turns the raw string into the field's value, raising ValueError.
    Runs after every other check, and only for the sources the key applies to (elsewhere the field stays None)."""


@dataclass(frozen=True)
class Spec:
    """A ``Param`` resolved against its field: what the parser and the table need, computed once."""

    field: str
    param: Param
    kind: Kind
    default: object
    """The dataclass default, or None when the field has none."""
    choices: tuple[str, ...]
    parse: Callable[[str], object]

    def applies_to(self, source: str | None) -> bool:
        return not self.param.sources or source in self.param.sources


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


_PLAIN: Final[Mapping[type, tuple[Kind, Callable[[str], object]]]] = {
    str: (Kind.STRING, str),
    int: (Kind.INT, _parse_int),
    float: (Kind.FLOAT, _parse_float),
    bool: (Kind.BOOL, _parse_bool),
}


def _without_none(hint: object) -> object:
    """``T | None`` → ``T``; anything else unchanged."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return hint


def _spec(name: str, hint: object, param: Param, default: object) -> Spec:
    value_type = _without_none(hint)
    if param.convert is not None:
        return Spec(name, param, Kind.STRING, default, (), str)
    if isinstance(value_type, type) and issubclass(value_type, StrEnum):
        return Spec(name, param, Kind.STRING, default, tuple(m.value for m in value_type), value_type)
    if isinstance(value_type, type) and value_type in _PLAIN:
        kind, parse = _PLAIN[value_type]
        return Spec(name, param, kind, default, (), parse)
    raise TypeError(f"field {name}: no metadata parser for {value_type!r}; declare a Param convert")


def declare(cls: type) -> tuple[Spec, ...]:
    """The specs of a dataclass's ``Annotated[T, Param(...)]`` fields, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    specs: list[Spec] = []
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if typing.get_origin(hint) is not Annotated:
            continue
        value_type, *extras = typing.get_args(hint)
        param = next((e for e in extras if isinstance(e, Param)), None)
        if param is None:
            continue
        default = None if field.default is dataclasses.MISSING else field.default
        specs.append(_spec(field.name, value_type, param, default))
    return tuple(specs)


def quote(text: str) -> str:
    """Go's %q for the plain strings found in metadata."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lookup(metadata: Mapping[str, str], key: str) -> str | None:
    """The value of ``key``, or of ``keyFromEnv`` (KEDA resolves those from the target's env before sending)."""
    for name in (key, key + _FROM_ENV_SUFFIX):
        raw = metadata.get(name)
        if raw is not None and raw.strip() != "":
            return raw.strip()
    return None


def _range_problem(param: Param, raw: str, value: float) -> str | None:
    prefix = f"parameter {quote(param.key)} value {quote(raw)} must be"
    if param.minimum is not None:
        if param.exclusive_minimum and not value > param.minimum:
            return f"{prefix} > {param.minimum:g}"
        if not param.exclusive_minimum and value < param.minimum:
            return f"{prefix} >= {param.minimum:g}"
    if param.maximum is not None and value > param.maximum:
        return f"{prefix} <= {param.maximum:g}"
    return None


def _problem_or_value(spec: Spec, raw: str) -> tuple[str | None, object]:
    key = quote(spec.param.key)
    if spec.choices and raw not in spec.choices:
        return f"parameter {key} value {quote(raw)} must be one of [{' '.join(spec.choices)}]", None
    try:
        value = spec.parse(raw)
    except ValueError as exc:
        return f"unable to set param {key} value {quote(raw)}: {exc}", None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _range_problem(spec.param, raw, float(value)), value
    return None, value


def read_values(
    specs: tuple[Spec, ...], metadata: Mapping[str, str], *, source: str | None, problems: list[str]
) -> dict[str, object]:
    """Field values by field name: parsed, range-checked, defaulted; problems are appended in declaration order.

    A key whose value is refused is left out of the result. Keys of other sources are still checked (a bad value
    is a bad value), but required only for their own sources.
    """
    values: dict[str, object] = {}
    for spec in specs:
        raw = lookup(metadata, spec.param.key)
        if raw is None:
            if spec.param.required and spec.applies_to(source) and not _replaced(specs, spec, metadata):
                problems.append(f"missing required parameter {quote(spec.param.key)}")
            else:
                values[spec.field] = spec.default
            continue
        problem, value = _problem_or_value(spec, raw)
        if problem is not None:
            problems.append(problem)
        else:
            values[spec.field] = value
    return values


def _replaced(specs: tuple[Spec, ...], spec: Spec, metadata: Mapping[str, str]) -> bool:
    """Another key that stands in for ``spec``'s was given."""
    return any(other.param.replaces == spec.param.key and lookup(metadata, other.param.key) for other in specs)


def convert_values(
    specs: tuple[Spec, ...], values: dict[str, object], *, source: str | None, problems: list[str]
) -> None:
    """Run the ``convert`` of each field that has one, in place; kept last so its problems are reported last."""
    for spec in specs:
        convert = spec.param.convert
        raw = values.get(spec.field)
        if convert is None or not isinstance(raw, str):
            continue
        if not spec.applies_to(source):
            values[spec.field] = None
            continue
        try:
            values[spec.field] = convert(raw)
        except ValueError as exc:
            problems.append(f"unable to set param {quote(spec.param.key)} value {quote(raw)}: {exc}")


def undeclared(specs: tuple[Spec, ...], metadata: Mapping[str, str], *, ignored: frozenset[str]) -> tuple[str, ...]:
    """Keys nobody declared (nor their ``FromEnv`` twins), sorted: typos the caller warns about."""
    declared = {spec.param.key for spec in specs}
    return tuple(
        sorted(
            key
            for key in metadata
            if key not in declared
            and key not in ignored
            and not (key.endswith(_FROM_ENV_SUFFIX) and key[: -len(_FROM_ENV_SUFFIX)] in declared)
        )
    )


def _shown(value: object) -> str:
    """A default as users write it in metadata."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render_table(specs: tuple[Spec, ...]) -> str:
    """A Markdown table of the declared keys, in declaration order."""
    rows = ["| key | type | default | sources | meaning |", "|---|---|---|---|---|"]
    for spec in specs:
        param = spec.param
        default = "required" if param.required else (f"`{_shown(spec.default)}`" if spec.default is not None else "-")
        stand_ins = [f"`{other.param.key}`" for other in specs if other.param.replaces == param.key]
        if param.required and stand_ins:
            default = f"required (or {', '.join(stand_ins)})"
        allowed = f" One of: {', '.join(f'`{c}`' for c in spec.choices)}." if spec.choices else ""
        sources = ", ".join(param.sources) or "all"
        rows.append(f"| `{param.key}` | {spec.kind.value} | {default} | {sources} | {param.doc}{allowed} |")
    return "\n".join(rows)
