"""Mint OCIDs shaped like Oracle's, so SDK validation and scripts that parse them accept the emulator's resources.

The SDK checks user and tenancy OCIDs against a regex before it sends a request, and humans recognise a resource by
its ``ocid1.<type>.oc1.<region>.<unique>`` shape, so the emulator never hands out free-form identifiers.
"""

from __future__ import annotations

import secrets

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def new_ocid(resource_type: str, *, region_key: str = "") -> str:
    """A fresh OCID; global resources (tenancy, user, compartment) leave ``region_key`` empty."""
    unique = "".join(secrets.choice(_ALPHABET) for _ in range(52))
    return f"ocid1.{resource_type}.oc1.{region_key}.aaaaaaaa{unique}"
