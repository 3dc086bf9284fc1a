"""Whole objects: which ScaledObjects and ScaledJobs name this scaler, and how their targets are found and linted."""

from __future__ import annotations

from scaler.placement import (
    Severity,
    burst_scalers,
    lint_objects,
    lint_workload,
    nodepool_taints,
)
from tests.unit.placement.objects import (
    PREEMPTIBLE,
    container,
    deployment,
    found,
    managed_template,
    nodepool,
    scaled_job,
    scaled_object,
    virtual_template,
)


def test_lint_objects_resolves_targets_per_scaled_object() -> None:
    bad_virtual = virtual_template()
    bad_virtual["spec"].pop("tolerations")
    bad_managed = managed_template()
    bad_managed["spec"].pop("tolerations")
    objects = [
        deployment("good-virtual", virtual_template()),
        deployment("good-managed", managed_template()),
        deployment("bad-virtual", bad_virtual),
        deployment("bad-managed", bad_managed),
        scaled_object("gv", "good-virtual", "virtual"),
        scaled_object("gm", "good-managed", "managed"),
        scaled_object("bv", "bad-virtual", "virtual"),
        scaled_object("bm", "bad-managed", "managed"),
    ]
    assert found(lint_objects(objects)) == {
        ("virtual-missing-toleration", "Deployment shop/bad-virtual", "bv"),
        ("managed-missing-toleration", "Deployment shop/bad-managed", "bm"),
    }


def test_same_workload_under_the_wrong_tier_is_flagged() -> None:
    objects = [deployment("consumer", virtual_template()), scaled_object("so", "consumer", "managed")]
    assert {f.rule for f in lint_objects(objects)} == {"managed-missing-selector", "managed-missing-toleration"}


def test_only_triggers_naming_this_scaler_are_linted() -> None:
    broken = {"spec": {"hostNetwork": True, "containers": [container()]}}
    objects = [
        deployment("a", broken),
        deployment("b", broken),
        deployment("c", broken),
        deployment("d", broken),
        scaled_object("cpu", "a", "virtual", trigger_type="cpu"),
        scaled_object("other-external", "b", "virtual", source="kafka", scalerAddress="other.svc:6000"),
        scaled_object("no-tier", "c", None),
        scaled_object("by-address", "d", "virtual", source=""),
    ]
    assert {f.scaled_object for f in lint_objects(objects)} == {"by-address"}
    assert [(r.name, r.tiers) for r in burst_scalers(objects)] == [
        ("no-tier", ()),
        ("by-address", ("virtual",)),
    ]


def test_streaming_source_names_this_scaler() -> None:
    objects = [
        deployment("s", {"spec": {"containers": [container()]}}),
        scaled_object("s", "s", "virtual", source="oci-streaming", scalerAddress="10.0.0.1:6000"),
    ]
    assert {"virtual-missing-selector", "virtual-missing-toleration"} <= {f.rule for f in lint_objects(objects)}


def test_target_not_found_is_a_warning() -> None:
    (finding,) = lint_objects([scaled_object("orders", "orders-consumer", "virtual")])
    assert (finding.rule, finding.object, finding.severity) == (
        "target-not-found",
        "Deployment shop/orders-consumer",
        Severity.WARNING,
    )
    assert not finding.is_error


def test_target_is_matched_by_namespace_kind_and_group() -> None:
    objects = [
        deployment("consumer", {"spec": {}}, namespace="other"),
        deployment("consumer", {"spec": {}}, kind="StatefulSet"),
        scaled_object("so", "consumer", "virtual"),
    ]
    assert {f.rule for f in lint_objects(objects)} == {"target-not-found"}
    so = scaled_object("so", "consumer", "virtual")
    so["spec"]["scaleTargetRef"]["apiVersion"] = "argoproj.io/v1alpha1"
    assert {f.rule for f in lint_objects([deployment("consumer", virtual_template()), so])} == {"target-not-found"}


def test_missing_namespace_means_the_default_namespace() -> None:
    objects = [deployment("c", virtual_template(), namespace=None), scaled_object("so", "c", "virtual", namespace=None)]
    assert lint_objects(objects) == []
    bad = deployment("c", {"spec": {"containers": [container()]}}, namespace=None)
    findings = lint_objects([bad, scaled_object("so", "c", "virtual", namespace=None)], default_namespace="team")
    assert {f.object for f in findings} == {"Deployment team/c"}


def test_unknown_tier_is_an_error_on_the_scaled_object() -> None:
    (finding,) = lint_objects([deployment("c", virtual_template()), scaled_object("so", "c", "Virtual")])
    assert (finding.rule, finding.object, finding.severity) == ("unknown-tier", "ScaledObject shop/so", Severity.ERROR)


def test_daemonset_target_on_virtual() -> None:
    objects = [
        deployment("agent", virtual_template(), kind="DaemonSet"),
        scaled_object("so", "agent", "virtual", kind="DaemonSet"),
    ]
    assert found(lint_objects(objects)) == {("virtual-daemonset", "DaemonSet shop/agent", "so")}


def test_statefulset_claim_templates_on_virtual() -> None:
    sts = deployment("cache", virtual_template(), kind="StatefulSet")
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]
    findings = lint_workload(sts, tier="virtual", scaled_object="so")
    assert [(f.rule, f.object) for f in findings] == [("virtual-pvc", "StatefulSet shop/cache")]
    assert "(data)" in findings[0].message
    managed = deployment("cache", managed_template(), kind="StatefulSet")
    managed["spec"]["volumeClaimTemplates"] = sts["spec"]["volumeClaimTemplates"]
    assert lint_workload(managed, tier="managed", scaled_object="so") == []


def test_scaled_job_template_is_linted_in_place() -> None:
    template = virtual_template()
    template["spec"]["restartPolicy"] = "Never"
    assert lint_objects([scaled_job("reindex", template, "virtual")]) == []
    template["spec"].pop("tolerations")
    (finding,) = lint_objects([scaled_job("reindex", template, "virtual")])
    assert (finding.rule, finding.object, finding.scaled_object) == (
        "virtual-missing-toleration",
        "ScaledJob batch/reindex",
        "reindex",
    )
    assert finding.fix.startswith("spec.jobTargetRef.template.spec:")
    (missing,) = lint_objects([scaled_job("empty", {}, "virtual")])
    assert missing.rule == "target-not-found"


def test_known_nodepool_taints_must_be_tolerated() -> None:
    template = managed_template()
    template["spec"]["nodeSelector"] = {"karpenter.sh/nodepool": "spot"}
    template["spec"]["tolerations"] = []
    objects = [
        nodepool("spot", PREEMPTIBLE, {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}),
        deployment("c", template),
        scaled_object("so", "c", "managed"),
    ]
    (finding,) = lint_objects(objects)
    assert finding.rule == "managed-nodepool-toleration"
    assert "oci.oraclecloud.com/oke-is-preemptible=present:NoSchedule" in finding.message
    assert "soft" not in finding.message
    assert "- key: oci.oraclecloud.com/oke-is-preemptible\n    operator: Equal\n    value: present" in finding.fix
    template["spec"]["tolerations"] = [{"key": "oci.oraclecloud.com/oke-is-preemptible", "operator": "Exists"}]
    assert lint_objects(objects) == []
    assert nodepool_taints(objects) == {
        "spot": (
            ("oci.oraclecloud.com/oke-is-preemptible", "present", "NoSchedule"),
            ("soft", "x", "PreferNoSchedule"),
        )
    }


def test_unknown_nodepool_needs_no_toleration() -> None:
    template = managed_template()
    template["spec"]["nodeSelector"] = {"karpenter.sh/nodepool": "elsewhere"}
    template["spec"]["tolerations"] = []
    assert (
        lint_objects([nodepool("spot", PREEMPTIBLE), deployment("c", template), scaled_object("so", "c", "managed")])
        == []
    )
