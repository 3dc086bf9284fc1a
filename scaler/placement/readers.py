"""Defensive readers over untrusted Kubernetes dicts, and OKE's pod sizing.

A manifest may have any shape: a typo turns a list into a string, a volume into ``null``. The lint must report on
what it can read and never crash, so every access to an object goes through these readers, which answer "empty" for
whatever is not the expected type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

Obj = Mapping[str, Any]
"""A Kubernetes object (or part of one) as parsed JSON/YAML."""


def as_map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def maps(value: Any) -> list[Obj]:
    """The mappings in a list; anything else (a string, a null item) is skipped."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def is_true(value: Any) -> bool:
    """YAML's ``true``, or the string a templating tool may leave behind."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def containers(spec: Obj) -> Iterator[tuple[str, Obj]]:
    """(description, container) for every container and init container."""
    for field, label in (("initContainers", "init container"), ("containers", "container")):
        for container in maps(spec.get(field)):
            yield f"{label} {text(container.get('name')) or '?'!r}", container


def names(items: Sequence[str]) -> str:
    return ", ".join(items)


def fmt(number: Decimal) -> str:
    """A quantity as people write it: no exponent, no trailing zeros."""
    return f"{number.normalize():f}"


_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX: Final[Mapping[str, Decimal]] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity (``500m``, ``2``, ``1.5Gi``, ``1e3``) as a number; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        result = Decimal(number) * _SUFFIX[suffix or ""]
        if exponent is not None:
            if abs(int(exponent)) > 30:  # no real quantity is that large; refuse rather than build a huge number
                return None
            result = result.scaleb(int(exponent))
    except (InvalidOperation, ValueError):
        return None
    return result


def resource(container: Obj, section: str, name: str) -> Decimal | None:
    """``resources.<section>.<name>`` of a container, when it is a valid quantity."""
    return parse_quantity(as_map(as_map(container.get("resources")).get(section)).get(name))


def sized(container: Obj, name: str, default: Decimal) -> Decimal:
    """OKE's per-container sizing: the limit if set, else the request, else the default."""
    for section in ("limits", "requests"):
        value = resource(container, section, name)
        if value is not None:
            return value
    return default


def pod_total(spec: Obj, size: Callable[[Obj], Decimal]) -> Decimal:
    """Kubernetes' effective pod amount: regular containers plus sidecars, or the init-phase peak if larger."""
    sidecars = Decimal(0)
    init_peak = Decimal(0)
    for container in maps(spec.get("initContainers")):
        amount = size(container)
        if container.get("restartPolicy") == "Always":
            sidecars += amount
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + amount)
    regular = sum((size(c) for c in maps(spec.get("containers"))), Decimal(0))
    return max(regular + sidecars, init_peak)
