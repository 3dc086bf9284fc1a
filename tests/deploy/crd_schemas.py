"""The official CRD schemas, made as strict as the API server: ScaledObject, TriggerAuthentication, NodePool and
OCINodeClass are checked against the CRDs read from ``$BURST_SCALER_CRDS_DIR`` (never copied into the repo).

jsonschema alone would pass a misspelt field the API server silently prunes, and cannot evaluate CEL rules; the
helpers here close both gaps for the rules our objects can break.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.deploy.manifests import CRDS_ENV, Obj, describe

SHARED_CRDS = Path(__file__).resolve().parents[3] / "shared" / "crds"
"""Where the team's checkout keeps the official CRDs (beside the repository); used when the variable is unset."""


def crds_dir() -> Path:
    raw = os.environ.get(CRDS_ENV) or (str(SHARED_CRDS) if SHARED_CRDS.is_dir() else "")
    if not raw:
        pytest.skip(f"{CRDS_ENV} is not set and {SHARED_CRDS} does not exist: point it at the official CRD YAML files")
    path = Path(raw)
    if not path.is_dir():
        pytest.fail(f"{CRDS_ENV}={raw} is not a directory")
    return path


@cache
def crd_schemas(directory: Path) -> dict[tuple[str, str, str], Obj]:
    """(group, version, kind) → openAPIV3Schema of every served version in the directory's CRDs."""
    schemas: dict[tuple[str, str, str], Obj] = {}
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served", True):
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def strict_schema(schema: Any) -> Any:
    """The schema with unknown fields forbidden wherever the API server would prune them.

    A structural CRD schema that lists ``properties`` without ``additionalProperties`` or
    ``x-kubernetes-preserve-unknown-fields`` makes the API server drop any other field silently: a typo in a
    manifest would apply cleanly and do nothing. Here it fails instead.
    """
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict_schema(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


_EXACTLY_ONE = re.compile(r"must specify exactly one of \[(.*)\]")
_AT_LEAST_ONE = re.compile(r"expected at least one, got none, \[(.*)\]")


def cel_problems(schema: Any, instance: Any, path: str = "") -> list[str]:
    """The CRDs' CEL rules (x-kubernetes-validations) that jsonschema cannot evaluate, for the message shapes we
    can evaluate exactly: "must specify exactly one of [...]" and "expected at least one, got none, [...]" (the
    OCINodeClass image/subnet selectors), the ScaledObject replica bounds and the NodePool `In` requirement rule.
    Transition rules (oldSelf) need an update and are skipped; other rules are left to the API server."""
    if not isinstance(schema, dict):
        return []
    problems: list[str] = []
    if isinstance(instance, dict):
        for rule in schema.get("x-kubernetes-validations", []):
            message = str(rule.get("message", ""))
            keys: list[str] = []
            for pattern in (_EXACTLY_ONE, _AT_LEAST_ONE):
                match = pattern.search(message)
                if match:
                    keys = re.findall(r"'([^']+)'", match.group(1))
            present = sum(1 for key in keys if key in instance)
            if (_EXACTLY_ONE.search(message) and present != 1) or (_AT_LEAST_ONE.search(message) and present < 1):
                problems.append(f"{path or '.'}: {message}")
            replica_rule = message.startswith("minReplicaCount must be less than or equal to maxReplicaCount")
            if replica_rule and instance.get("minReplicaCount", 0) > instance.get("maxReplicaCount", 100):
                problems.append(f"{path or '.'}: {message}")
        for key, value in instance.items():
            child = schema.get("properties", {}).get(key)
            if child is None and isinstance(schema.get("additionalProperties"), dict):
                child = schema["additionalProperties"]
            problems += cel_problems(child, value, f"{path}.{key}")
    elif isinstance(instance, list):
        for rule in schema.get("x-kubernetes-validations", []):
            if rule.get("message") == "requirements with operator 'In' must have a value defined":
                for item in instance:
                    if item.get("operator") == "In" and not item.get("values"):
                        problems.append(f"{path}: {rule['message']}")
        for index, item in enumerate(instance):
            problems += cel_problems(schema.get("items"), item, f"{path}[{index}]")
    return problems


def crd_problems(obj: Obj, schemas: Mapping[tuple[str, str, str], Obj]) -> list[str]:
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    schema = schemas.get((group, version, obj["kind"]))
    if schema is None:
        return [f"{describe(obj)}: no CRD for {obj['apiVersion']} {obj['kind']} in ${CRDS_ENV}"]
    validator = jsonschema.Draft4Validator(strict_schema(schema))
    problems = [
        f"{describe(obj)} at {'/'.join(str(p) for p in error.absolute_path) or '.'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]
    return problems + [f"{describe(obj)} at {where}" for where in cel_problems(schema, obj)]
