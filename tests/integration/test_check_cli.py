"""`burst-scaler check` as users run it: a real subprocess over manifest files, and over a live API served by
tests.support.kube_api and read with the official `kubernetes` client through a kubeconfig."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

import scaler.check
from tests.support.kube_api import FakeKubeApi

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "placement"

RESTRICTIONS = (
    "virtual-init-containers",
    "virtual-ephemeral-containers",
    "virtual-emptydir-count",
    "virtual-emptydir-size-limit",
    "virtual-grpc-probe",
    "virtual-requests-differ-from-limits",
    "virtual-host-port",
    "virtual-node-port-range",
    "virtual-pod-security-context",
    "virtual-share-process-namespace",
)
"""The rules for what OKE virtual nodes refuse: each has broken/<rule>.yaml and its corrected good/<rule>.yaml."""
BROKEN = {
    ("virtual-missing-toleration", "Deployment", "shop", "invoices-consumer", "invoices"),
    ("virtual-pvc", "Deployment", "shop", "reports-consumer", "reports"),
    ("virtual-gpu", "Deployment", "media", "thumbnails-consumer", "thumbnails"),
    ("managed-missing-toleration", "Deployment", "shop", "ledger-consumer", "ledger"),
} | {
    (rule, "Deployment", "edge", f"{rule.removeprefix('virtual-')}-consumer", rule.removeprefix("virtual-"))
    for rule in RESTRICTIONS
}
"""Exactly what the broken fixtures break: one rule each, nothing from the correct ones."""
GOOD_CHECKED = 4 + len(RESTRICTIONS)  # orders pair, payments, reindex ScaledJob, one per restriction
CHECKED_ALL = GOOD_CHECKED + len(BROKEN)


def check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBERNETES_SERVICE_HOST", "KUBECONFIG")}
    env = {k: v for k, v in env.items() if not k.startswith("BURST_SCALER_")}
    return subprocess.run(
        [sys.executable, "-m", "scaler.check", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def reported(result: subprocess.CompletedProcess[str] | str) -> tuple[set[tuple[str, ...]], dict[str, Any]]:
    report: dict[str, Any] = json.loads(result if isinstance(result, str) else result.stdout)
    found: set[tuple[str, ...]] = {
        (f["rule"], f["kind"], f["namespace"], f["name"], f["scaled_object"]) for f in report["findings"]
    }
    return found, report


def fixture_objects(directory: Path) -> list[dict[str, Any]]:
    """The fixtures as an API server would hold them (Lists unwrapped; kustomize config is not an API object)."""
    objects: list[dict[str, Any]] = []
    paths = sorted(directory.rglob("*")) if directory.is_dir() else [directory]
    for path in paths:
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        for document in yaml.safe_load_all(path.read_text()):
            items = document.get("items") if document.get("kind") == "List" else [document]
            objects += [obj for obj in items if obj.get("kind") != "Kustomization"]
    return objects


# ---------------------------------------------------------------------------------------------------------------------
# Manifests


def test_reports_exactly_the_broken_manifests_as_json() -> None:
    result = check("-f", str(FIXTURES), "-o", "json")
    assert result.returncode == 1, result.stderr
    found, report = reported(result)
    assert found == BROKEN
    assert (report["errors"], report["warnings"], report["checked"]) == (len(BROKEN), 0, CHECKED_ALL)
    for finding in report["findings"]:
        assert finding["severity"] == "error"
        assert finding["message"]
        assert finding["fix"]


def test_human_output_names_object_rule_and_fix() -> None:
    result = check("-f", str(FIXTURES / "broken"), "-f", str(FIXTURES / "good" / "orders.yaml"))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "ERROR virtual-pvc Deployment shop/reports-consumer (ScaledObject reports): tier virtual, but volume "
        "'scratch' (claim 'reports-scratch') needs a persistent volume"
    ) in result.stdout
    assert sum(line.startswith("ERROR ") for line in lines) == len(BROKEN)
    assert "      - key: virtual-kubelet.io/provider" in lines  # the fix, as YAML
    assert (
        lines[-1]
        == f"{len(BROKEN)} errors, 0 warnings ({len(BROKEN) + 2} ScaledObjects/ScaledJobs with a tier checked)"
    )


def test_correct_manifests_pass() -> None:
    result = check("-f", str(FIXTURES / "good"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"no placement problems ({GOOD_CHECKED} ScaledObjects/ScaledJobs with a tier checked)"
    ]
    found, report = reported(check("-f", str(FIXTURES / "good"), "--output", "json"))
    assert (found, report["errors"], report["warnings"]) == (set(), 0, 0)


def test_missing_target_is_a_warning_only(tmp_path: Path) -> None:
    manifest = tmp_path / "only-the-scaledobject.yaml"
    documents = [d for d in fixture_objects(FIXTURES / "good") if d["kind"] == "ScaledObject"]
    manifest.write_text(yaml.safe_dump_all(documents))
    result = check("-f", str(manifest), "-o", "json")
    assert result.returncode == 0, result.stderr
    found, report = reported(result)
    restricted = {rule.removeprefix("virtual-") for rule in RESTRICTIONS}
    assert found == {
        ("target-not-found", "Deployment", "shop", "orders-consumer-managed", "orders-managed"),
        ("target-not-found", "Deployment", "shop", "orders-consumer-virtual", "orders-virtual"),
        ("target-not-found", "Deployment", "payments", "payments-consumer", "payments"),
    } | {("target-not-found", "Deployment", "edge-fixed", f"{name}-consumer", name) for name in restricted}
    assert (report["errors"], report["warnings"]) == (0, 3 + len(RESTRICTIONS))
    assert {f["severity"] for f in report["findings"]} == {"warning"}


def test_reads_stdin_and_defaults_the_namespace() -> None:
    text = (FIXTURES / "broken" / "invoices-missing-toleration.yaml").read_text().replace("  namespace: shop\n", "")
    found, _ = reported(check("-f", "-", "-n", "team-a", "-o", "json", stdin=text))
    assert found == {("virtual-missing-toleration", "Deployment", "team-a", "invoices-consumer", "invoices")}


@pytest.mark.parametrize("rule", RESTRICTIONS)
def test_each_virtual_node_restriction_fails_its_fixture_and_passes_the_corrected_one(
    rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check_in_process(capsys, "-f", str(FIXTURES / "broken" / f"{rule}.yaml"), "-o", "json")
    name = rule.removeprefix("virtual-")
    assert (code, reported(out)[0]) == (1, {(rule, "Deployment", "edge", f"{name}-consumer", name)})
    (finding,) = reported(out)[1]["findings"]
    assert finding["message"].startswith("tier virtual, but ")
    assert finding["fix"]
    code, out, _ = check_in_process(capsys, "-f", str(FIXTURES / "good" / f"{rule}.yaml"))
    assert (code, out) == (0, "no placement problems (1 ScaledObject/ScaledJob with a tier checked)\n")


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, [], "nothing to check: give -f/--filename PATH"),
        (None, ["-f", "{tmp}/nope.yaml"], "{tmp}/nope.yaml: no such file or directory"),
        ("empty-dir", ["-f", "{tmp}/empty"], "{tmp}/empty: no *.yaml, *.yml or *.json files in this directory"),
        (
            "bad-yaml",
            ["-f", "{tmp}"],
            "{tmp}/bad.yaml: invalid YAML at line 3 column 7: mapping values are not allowed here",
        ),
        ("bad-json", ["-f", "{tmp}/bad.json"], "{tmp}/bad.json: invalid JSON at line 1 column 14: Expecting property"),
        (None, ["-f", "{tmp}", "--cluster"], "give either -f/--filename or --cluster, not both"),
        (
            None,
            ["--cluster", "--kubeconfig", "{tmp}/missing"],
            "cannot load Kubernetes configuration from {tmp}/missing",
        ),
    ],
    ids=["no-input", "missing-file", "empty-dir", "bad-yaml", "bad-json", "both-inputs", "missing-kubeconfig"],
)
def test_input_problems_exit_2_naming_the_problem(
    tmp_path: Path, setup: str | None, args: list[str], message: str
) -> None:
    if setup == "empty-dir":
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "README.md").write_text("no manifests here\n")
    elif setup == "bad-yaml":
        (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n  data: {}\n")
    elif setup == "bad-json":
        (tmp_path / "bad.json").write_text('{"kind": "X",}')
    result = check(*(arg.format(tmp=tmp_path) for arg in args))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("burst-scaler check: error: ")
    assert message.format(tmp=tmp_path) in result.stderr


# ---------------------------------------------------------------------------------------------------------------------
# Live cluster


def test_cluster_reports_exactly_the_broken_workloads(tmp_path: Path) -> None:
    with FakeKubeApi(fixture_objects(FIXTURES)) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        result = check("--cluster", "--kubeconfig", str(kubeconfig), "-o", "json")
        assert result.returncode == 1, result.stderr
        found, report = reported(result)
        assert found == BROKEN
        assert report["checked"] == CHECKED_ALL
        for path in (
            "/apis/keda.sh/v1alpha1/scaledobjects",
            "/apis/keda.sh/v1alpha1/scaledjobs",
            "/apis/apps/v1/deployments",
            "/apis/apps/v1/statefulsets",
            "/apis/apps/v1/daemonsets",
            "/apis/karpenter.sh/v1/nodepools",
        ):
            assert api.requests[path] == 1, path


def test_cluster_namespace_and_context(tmp_path: Path) -> None:
    with FakeKubeApi(fixture_objects(FIXTURES)) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", context="oke-dev")
        result = check(
            "--cluster", "--kubeconfig", str(kubeconfig), "--context", "oke-dev", "-n", "media", "-o", "json"
        )
        assert result.returncode == 1, result.stderr
        found, _ = reported(result)
        assert found == {("virtual-gpu", "Deployment", "media", "thumbnails-consumer", "thumbnails")}
        assert api.requests["/apis/apps/v1/namespaces/media/deployments"] == 1
        assert api.requests["/apis/keda.sh/v1alpha1/namespaces/media/scaledobjects"] == 1
        assert api.requests["/apis/apps/v1/deployments"] == 0


def check_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same entry point without a new interpreter (the kubernetes client takes ~1 s to import)."""
    code = scaler.check.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cluster_changes_are_seen_on_the_next_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeKubeApi(fixture_objects(FIXTURES / "good")) as api:
        kubeconfig = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
        assert check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)[0] == 0
        ledger, ledger_so = fixture_objects(FIXTURES / "broken" / "ledger-managed-no-toleration.yaml")
        api.put(ledger)
        api.put(ledger_so)
        code, out, _ = check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig, "-o", "json")
        assert code == 1
        assert reported(out)[0] == {("managed-missing-toleration", "Deployment", "shop", "ledger-consumer", "ledger")}
        ledger["spec"]["template"]["spec"]["tolerations"] = [{"key": "workload-type", "operator": "Exists"}]
        api.put(ledger)
        code, out, _ = check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)
        assert code == 0, out


def test_cluster_api_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeKubeApi() as api:
        kubeconfig = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
        assert check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)[:2] == (
            0,
            "no placement problems (0 ScaledObjects/ScaledJobs with a tier checked)\n",
        )
        api.fail("/apis/keda.sh/v1alpha1/scaledobjects", 403, "Forbidden", "scaledobjects.keda.sh is forbidden")
        code, out, err = check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)
        assert (code, out) == (2, "")
        assert "cannot list scaledobjects.keda.sh in all namespaces: HTTP 403 Forbidden (RBAC:" in err
        api.clear_failures()
        api.token = "rotated"
        code, _, err = check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)
        assert code == 2
        assert "HTTP 401 Unauthorized (the credentials were rejected" in err
    code, _, err = check_in_process(capsys, "--cluster", "--kubeconfig", kubeconfig)  # the server is gone
    assert code == 2
    assert "cannot list scaledobjects.keda.sh in all namespaces: MaxRetryError" in err


# ---------------------------------------------------------------------------------------------------------------------
# The fake API itself, through the official client (other tests rely on it for Deployment status reads).


def test_fake_kube_api_serves_the_official_client(tmp_path: Path) -> None:
    deployment = next(
        o for o in fixture_objects(FIXTURES / "good") if o["metadata"]["name"] == "orders-consumer-managed"
    )
    deployment["status"] = {"replicas": 1, "readyReplicas": 1}
    with FakeKubeApi([deployment]) as api:
        kubeconfig = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
        api_client = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        try:
            apps = client.AppsV1Api(api_client)
            read: Any = apps.read_namespaced_deployment("orders-consumer-managed", "shop")
            assert (read.kind, read.status.ready_replicas) == ("Deployment", 1)
            assert read.spec.template.spec.tolerations[0].key == "workload-type"

            deployment["status"]["readyReplicas"] = 3
            api.put(deployment)
            status: Any = apps.read_namespaced_deployment_status("orders-consumer-managed", "shop")
            assert status.status.ready_replicas == 3
            path = "/apis/apps/v1/namespaces/shop/deployments/orders-consumer-managed"
            assert api.requests[path] == 1
            assert api.requests[path + "/status"] == 1

            listed: Any = apps.list_namespaced_deployment("shop", label_selector="app.kubernetes.io/component=managed")
            assert [d.metadata.name for d in listed.items] == ["orders-consumer-managed"]
            assert (
                apps.list_namespaced_deployment("shop", label_selector="app.kubernetes.io/component=virtual").items
                == []
            )
            everything: Any = apps.list_deployment_for_all_namespaces()
            assert everything.items[0].kind is None  # as served: list items carry no kind (the client's model)
            assert everything.items[0].metadata.resource_version

            with pytest.raises(ApiException) as missing:
                apps.read_namespaced_deployment("nope", "shop")
            assert missing.value.status == 404
            assert json.loads(str(missing.value.body))["message"] == 'deployments.apps "nope" not found'

            custom = client.CustomObjectsApi(api_client)
            scaled_objects: Any = custom.list_cluster_custom_object("keda.sh", "v1alpha1", "scaledobjects")
            assert scaled_objects["items"] == []
            with pytest.raises(ApiException) as unknown:
                custom.list_cluster_custom_object("karpenter.sh", "v1", "nodepools")
            assert unknown.value.status == 404
        finally:
            api_client.close()
