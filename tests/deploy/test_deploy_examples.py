"""The examples as a whole: every trigger parses with the scaler's own parser, each ScaledObject scales a consumer
reading the same source, spillover members agree with each other, consumers run the scaler's image with only the
settings `burst-load consume` reads, and the Karpenter pools they land on bound cost and disruption.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scaler.metadata import parse_metadata
from scaler.values import Tier
from tests.deploy.manifests import (
    EXAMPLES,
    PREEMPTIBLE_TAINT,
    ROOT,
    SCALER_ADDRESS,
    Obj,
    all_objects,
    containers,
    describe,
    find,
    rendered,
)

# ---------------------------------------------------------------------------------------------------------------------
# Trigger metadata: the scaler's own parser, and the contract between the members of a group


def scaled_objects() -> list[tuple[str, Obj]]:
    return [(overlay, obj) for overlay, obj in all_objects() if obj["kind"] == "ScaledObject"]


def test_every_trigger_parses_with_the_scalers_own_parser() -> None:
    found = scaled_objects()
    assert {obj["metadata"]["name"] for _, obj in found} >= {
        "queue-consumer",
        "stream-consumer",
        "orders-managed",
        "orders-virtual",
    }
    for overlay, obj in found:
        for trigger in obj["spec"]["triggers"]:
            if trigger["type"] not in ("external", "external-push"):
                # another scaler's trigger only ever backs ours up inside a scalingModifiers formula
                assert trigger["name"] in obj["spec"]["advanced"]["scalingModifiers"]["formula"], describe(obj)
                continue
            metadata = trigger["metadata"]
            assert all(isinstance(v, str) for v in metadata.values()), f"{overlay}: metadata values must be strings"
            parsed = parse_metadata(metadata)
            assert parsed.unknown_keys == (), (
                f"deploy/{overlay}: {describe(obj)} has unknown keys {parsed.unknown_keys}"
            )
            assert metadata["scalerAddress"] == SCALER_ADDRESS
            assert not any("set-from" in value for value in metadata.values()), (
                f"deploy/{overlay}: {describe(obj)}: a kustomize replacement did not fill the trigger"
            )
            # The HPA lands exactly on the scaler's cap only if KEDA's cap is the same number.
            if parsed.config.max_replicas is not None:
                assert obj["spec"]["maxReplicaCount"] == parsed.config.max_replicas, describe(obj)


CONSUMER_PARAMS = {
    "queueId": "BURST_LOAD_QUEUE_ID",
    "streamId": "BURST_LOAD_STREAM_ID",
    "groupName": "BURST_LOAD_GROUP",
}
CONSUMER_TARGETS = {"oci-queue": "queue", "oci-streaming": "stream"}


def test_scaled_objects_target_a_consumer_reading_the_same_source() -> None:
    """The scaler and the consumer it scales read one source: the trigger's OCIDs are the consumer's parameters."""
    for overlay in EXAMPLES:
        objects = rendered(overlay)
        for obj in objects:
            if obj["kind"] != "ScaledObject":
                continue
            target = obj["spec"]["scaleTargetRef"]
            workload = find(objects, target.get("kind", "Deployment"), target["name"])
            assert workload["metadata"]["namespace"] == obj["metadata"]["namespace"]
            assert "replicas" not in workload["spec"], f"{describe(workload)}: KEDA owns the replica count"
            (container,) = workload["spec"]["template"]["spec"]["containers"]
            (source,) = container["envFrom"]
            params = find(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
            metadata = obj["spec"]["triggers"][0]["metadata"]
            compared = [key for key in CONSUMER_PARAMS if key in metadata]
            assert compared
            assert params["BURST_LOAD_TARGET"] == CONSUMER_TARGETS[metadata["source"]]
            for key in compared:
                assert metadata[key] == params[CONSUMER_PARAMS[key]], f"deploy/{overlay}: {describe(obj)} {key}"
            assert params["BURST_LOAD_OCI_AUTH"] == "workload_identity"
            assert workload["spec"]["template"]["spec"]["serviceAccountName"] == "burst-consumer"


def test_scaling_modifiers_pass_the_scalers_value_through_and_fall_back_to_the_second_trigger() -> None:
    """The formula's first term is our trigger, so while the scaler answers the HPA sees its value unchanged against
    the same target; KEDA turns fallback off unless the target is a whole number (fallback.go HasValidFallback)."""
    modified = [obj for _, obj in scaled_objects() if "scalingModifiers" in obj["spec"].get("advanced", {})]
    assert {obj["metadata"]["name"] for obj in modified} == {"queue-fallback"}
    for obj in modified:
        modifiers = obj["spec"]["advanced"]["scalingModifiers"]
        ours, *others = obj["spec"]["triggers"]
        assert ours["type"] == "external-push"
        assert others
        assert modifiers["formula"].startswith(f"{ours['name']} ?? ")
        assert all(t["name"] in modifiers["formula"] for t in others)
        config = parse_metadata(ours["metadata"]).config
        assert modifiers["target"] == str(int(config.target_backlog_per_replica))
        assert modifiers.get("metricType", "AverageValue") == "AverageValue"
        assert obj["spec"]["fallback"]["behavior"] == "scalingModifiers"


def test_exact_landing_sets_tolerance_zero_on_every_hpa() -> None:
    objects = rendered("examples/spillover-exact")
    members = [o for o in objects if o["kind"] == "ScaledObject"]
    assert len(members) == 2
    for obj in members:
        behavior = obj["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleUp"]["tolerance"] == behavior["scaleDown"]["tolerance"] == "0", describe(obj)
    virtual = find(objects, "ScaledObject", "orders-virtual")["spec"]["advanced"]["horizontalPodAutoscalerConfig"]
    assert virtual["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 60  # merged, not replaced


@pytest.mark.parametrize("overlay", ["examples/spillover", "examples/spillover-exact"])
def test_spillover_members_share_one_source_and_agree_on_the_managed_cap(overlay: str) -> None:
    objects = rendered(overlay)
    members = {
        parse_metadata(o["spec"]["triggers"][0]["metadata"]).config.tier: parse_metadata(
            o["spec"]["triggers"][0]["metadata"]
        ).config
        for o in objects
        if o["kind"] == "ScaledObject"
    }
    managed, virtual = members[Tier.MANAGED], members[Tier.VIRTUAL]
    assert managed.group == virtual.group == "orders"
    assert managed.ref == virtual.ref, "both members must read the same queue"
    assert virtual.managed_max_replicas == managed.max_replicas
    assert managed.lead_seconds > 0


def test_consumers_run_burst_load_consume_from_the_scaler_image() -> None:
    images: set[str] = set()
    for overlay, obj in all_objects():
        if obj["kind"] != "Deployment":
            continue
        for container in containers(obj):
            images.add(container["image"])
            if obj["metadata"]["name"] != "burst-scaler":
                assert container["command"] == ["burst-load"], f"deploy/{overlay}: {describe(obj)}"
                assert container["args"][0] == "consume"
                assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"]
    assert len(images) == 1, f"one image runs the scaler and every consumer, got {images}"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert images == {f"oke-burst-scaler:{version}"}, "image tags follow the package version"


def test_every_burst_load_env_var_in_deploy_is_a_real_consume_flag() -> None:
    """The consumer Deployments configure `burst-load consume` only through variables it actually reads."""
    binary = str(Path(sys.executable).parent / "burst-load")
    result = subprocess.run([binary, "consume", "--help"], capture_output=True, text=True, timeout=60, check=True)
    known = set(re.findall(r"BURST_LOAD_[A-Z_]+", result.stdout.replace("\n", "").replace(" ", "")))
    used = {
        key
        for overlay in EXAMPLES
        for obj in rendered(overlay)
        if obj["kind"] == "ConfigMap"
        for key in obj.get("data", {})
        if key.startswith("BURST_LOAD_")
    }
    assert used
    assert used <= known, f"unknown to `burst-load consume`: {sorted(used - known)}"


def test_managed_consumers_are_protected_from_consolidation() -> None:
    for overlay in EXAMPLES:
        for obj in rendered(overlay):
            if obj["kind"] == "Deployment" and obj["spec"]["template"]["spec"].get("nodeSelector", {}).get(
                "workload-type"
            ):
                annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
                assert annotations.get("karpenter.sh/do-not-disrupt") == "true", describe(obj)


# ---------------------------------------------------------------------------------------------------------------------
# The Karpenter pools the managed consumers land on


def test_karpenter_pools_bound_cost_and_disruption() -> None:
    objects = rendered("karpenter")
    node_classes = {o["metadata"]["name"] for o in objects if o["kind"] == "OCINodeClass"}
    pools = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NodePool"}
    assert set(pools) == {"burst-managed", "burst-spot"}
    for pool in pools.values():
        spec = pool["spec"]
        ref = spec["template"]["spec"]["nodeClassRef"]
        assert ref["group"] == "oci.oraclecloud.com"
        assert ref["kind"] == "OCINodeClass"
        assert ref["name"] in node_classes
        assert spec["limits"]["cpu"]
        assert spec["limits"]["memory"]
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert spec["disruption"]["consolidateAfter"]
        assert spec["disruption"]["budgets"]
    managed = pools["burst-managed"]["spec"]["template"]
    assert managed["metadata"]["labels"]["workload-type"] == "stateful"
    assert {"key": "workload-type", "value": "stateful", "effect": "NoSchedule"} in managed["spec"]["taints"]
    spot = pools["burst-spot"]["spec"]["template"]["spec"]
    assert PREEMPTIBLE_TAINT in spot["taints"]
    capacity = next(r for r in spot["requirements"] if r["key"] == "karpenter.sh/capacity-type")
    assert capacity == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
