"""`burst-scaler check`: the placement lint (scaler.placement) over manifest files or a live cluster.

A consumer that cannot run on the tier its trigger names fails silently: the scaler asks for replicas, the pods stay
Pending, the backlog grows. This command finds that before deploy (``-f DIR`` in CI) or in a running cluster
(``--cluster``), and exits 1 when any *error* finding is reported, so CI can gate on it. Warnings (a target that is
not among the checked files, an unsized virtual pod) are reported but do not fail. Exit 2 means the check itself
could not run (unreadable file, bad YAML, no API access) and says which file or call failed.

Reading files and the API is the only I/O here; the rules are pure and shared with the server.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML (dev extra)

from scaler.errors import ConfigError, ScalerError
from scaler.flags import EnvFlags, FlagError, resolve
from scaler.placement import Finding, Severity, burst_scalers, lint_objects
from scaler.settings import KubeSettings

MANIFEST_SUFFIXES: Final = frozenset({".yaml", ".yml", ".json"})
ENV_PREFIX: Final = "BURST_SCALER_"
PAGE_SIZE: Final = 500
OUTPUTS: Final = ("human", "json")

KEDA: Final = ("keda.sh", "v1alpha1")
KARPENTER: Final = ("karpenter.sh", "v1")


class CheckInputError(ScalerError):
    """The check could not read its input (a file, a directory, the Kubernetes API); exit code 2."""


# ---------------------------------------------------------------------------------------------------------------------
# Arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``burst-scaler check`` (also used by ``python -m scaler.check``)."""
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        metavar="PATH",
        help="manifest file, or directory searched recursively for *.yaml, *.yml, *.json; repeatable; '-' is stdin",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="check the live cluster: ScaledObjects/ScaledJobs, Deployments/StatefulSets/DaemonSets, Karpenter "
        "NodePools (in-cluster config when KUBERNETES_SERVICE_HOST is set and no --kubeconfig/--context is given)",
    )
    flags = EnvFlags(parser, prefix=ENV_PREFIX)
    flags.add(
        "--kubeconfig",
        metavar="PATH",
        default=None,
        shown="$KUBECONFIG or ~/.kube/config",
        help="kubeconfig for --cluster",
    )
    flags.add(
        "--context", metavar="NAME", default=None, shown="the current context", help="kubeconfig context for --cluster"
    )
    flags.add(
        "--namespace",
        aliases=["-n"],
        metavar="NS",
        default=None,
        shown="--cluster: all namespaces; -f: default",
        help="--cluster: check only this namespace; -f: the namespace of objects that name none",
    )
    flags.add("--output", aliases=["-o"], choices=OUTPUTS, default="human", help="report format")


# ---------------------------------------------------------------------------------------------------------------------
# Manifests


def _manifest_files(paths: Sequence[str]) -> Iterator[Path | None]:
    """Files to read, in a stable order; None stands for stdin."""
    for raw in paths:
        if raw == "-":
            yield None
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                file
                for file in path.rglob("*")
                if file.suffix.lower() in MANIFEST_SUFFIXES
                and file.is_file()
                and not any(part.startswith(".") for part in file.relative_to(path).parts)
                and not _helm_template(file)
            )
            if not found:
                raise CheckInputError(f"{path}: no *.yaml, *.yml or *.json files in this directory")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise CheckInputError(f"{path}: no such file or directory")


def _helm_template(file: Path) -> bool:
    """A file of a Helm chart's templates/: Go templates, not manifests; check what ``helm template`` renders."""
    return any(parent.name == "templates" and (parent.parent / "Chart.yaml").is_file() for parent in file.parents)


def _documents(text: str, name: str, *, as_json: bool) -> list[Any]:
    if as_json:
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise CheckInputError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    try:
        return list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise CheckInputError(f"{name}: invalid YAML{where}: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise CheckInputError(f"{name}: invalid YAML: {exc}") from exc


def unwrap(document: Any) -> Iterator[Mapping[str, Any]]:
    """Kubernetes objects in one document: ``List`` and typed lists (``DeploymentList``) yield their items.

    Items of typed lists carry no kind/apiVersion (the API server omits them); they get the list's. Anything that is
    not a mapping with a kind (a kustomization, a values file) is not an object and is skipped.
    """
    if not isinstance(document, Mapping):
        return
    kind = document.get("kind")
    items = document.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        item_kind = kind.removesuffix("List")
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if item_kind and "kind" not in item:
                item = {"kind": item_kind, "apiVersion": document.get("apiVersion", ""), **item}
            yield from unwrap(item)
        return
    if isinstance(kind, str) and kind:
        yield document


def load_manifests(paths: Sequence[str], *, stdin: TextIO | None = None) -> list[Mapping[str, Any]]:
    """Every Kubernetes object in the given files/directories (multi-document YAML, JSON, List kinds unwrapped)."""
    objects: list[Mapping[str, Any]] = []
    for file in _manifest_files(paths):
        if file is None:
            name, text = "<stdin>", (stdin or sys.stdin).read()
        else:
            name = str(file)
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CheckInputError(f"{file}: cannot read: {exc}") from exc
        as_json = file is not None and file.suffix.lower() == ".json"
        for document in _documents(text, name, as_json=as_json):
            objects.extend(unwrap(document))
    return objects


# ---------------------------------------------------------------------------------------------------------------------
# Live cluster


def _api_client(*, kubeconfig: str | None, context: str | None) -> Any:
    from scaler.kube import api_client

    settings = KubeSettings(kubeconfig=Path(kubeconfig) if kubeconfig else None, context=context)
    try:
        return api_client(settings, fix="Pass --kubeconfig PATH / --context NAME.", required=True)
    except ConfigError as exc:
        raise CheckInputError(str(exc)) from exc


def _list_all(what: str, list_call: Any, *, optional: bool = False) -> list[dict[str, Any]]:
    """Every page of one list call, as raw JSON (camelCase, exactly as served)."""
    from kubernetes.client.exceptions import ApiException

    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "_preload_content": False}
        if token:
            kwargs["_continue"] = token
        try:
            response = list_call(**kwargs)
            body = json.loads(response.data)
            response.release_conn()
        except ApiException as exc:
            if optional and exc.status in (403, 404):
                return []
            hint = {
                401: " (the credentials were rejected: check the kubeconfig user)",
                403: f" (RBAC: the check needs list on {what})",
                404: " (is the CRD installed?)",
            }.get(exc.status or 0, "")
            raise CheckInputError(f"cannot list {what}: HTTP {exc.status} {exc.reason}{hint}") from exc
        except Exception as exc:
            raise CheckInputError(f"cannot list {what}: {type(exc).__name__}: {exc}") from exc
        api_version, kind = str(body.get("apiVersion") or ""), str(body.get("kind") or "").removesuffix("List")
        for item in body.get("items") or []:
            if isinstance(item, dict):
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(item)
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            return items


def read_cluster(*, kubeconfig: str | None, context: str | None, namespace: str | None) -> list[dict[str, Any]]:
    """ScaledObjects, ScaledJobs, their possible targets and Karpenter NodePools from the live API."""
    from kubernetes import client

    api = _api_client(kubeconfig=kubeconfig, context=context)
    try:
        custom = client.CustomObjectsApi(api)
        apps = client.AppsV1Api(api)

        def custom_list(group: str, version: str, plural: str) -> Any:
            if namespace:
                return lambda **kw: custom.list_namespaced_custom_object(group, version, namespace, plural, **kw)
            return lambda **kw: custom.list_cluster_custom_object(group, version, plural, **kw)

        def apps_list(resource: str) -> Any:
            if namespace:
                return lambda **kw: getattr(apps, f"list_namespaced_{resource}")(namespace, **kw)
            return getattr(apps, f"list_{resource}_for_all_namespaces")

        scope = f"namespace {namespace}" if namespace else "all namespaces"
        objects: list[dict[str, Any]] = []
        objects += _list_all(f"scaledobjects.keda.sh in {scope}", custom_list(*KEDA, "scaledobjects"))
        objects += _list_all(f"scaledjobs.keda.sh in {scope}", custom_list(*KEDA, "scaledjobs"))
        for resource, plural in (
            ("deployment", "deployments"),
            ("stateful_set", "statefulsets"),
            ("daemon_set", "daemonsets"),
        ):
            objects += _list_all(f"{plural}.apps in {scope}", apps_list(resource))
        # Cluster-scoped and optional: without Karpenter (404) or without RBAC on it (403) pool taints are unknown.
        objects += _list_all(
            "nodepools.karpenter.sh",
            lambda **kw: custom.list_cluster_custom_object(*KARPENTER, "nodepools", **kw),
            optional=True,
        )
        return objects
    finally:
        api.close()


# ---------------------------------------------------------------------------------------------------------------------
# Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_human(findings: Sequence[Finding], *, checked: int, out: TextIO) -> None:
    for finding in findings:
        owner = "" if finding.kind == "ScaledJob" else f" (ScaledObject {finding.scaled_object})"
        print(f"{finding.severity.value.upper()} {finding.rule} {finding.object}{owner}: {finding.message}", file=out)
        fix_lines = finding.fix.splitlines()
        if len(fix_lines) <= 1:
            print(f"  fix: {finding.fix}", file=out)
        else:  # YAML: keep its indentation intact under the label
            print("  fix:", file=out)
            for line in fix_lines:
                print(f"    {line}", file=out)
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    s = "" if checked == 1 else "s"
    scope = f"{checked} ScaledObject{s}/ScaledJob{s} with a tier checked"
    if findings:
        print(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} ({scope})", file=out)
    else:
        print(f"no placement problems ({scope})", file=out)


def render_json(findings: Sequence[Finding], *, checked: int, out: TextIO) -> None:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    report = {
        "findings": [dataclasses.asdict(f) for f in findings],
        "errors": errors,
        "warnings": len(findings) - errors,
        "checked": checked,
    }
    json.dump(report, out, indent=2)
    out.write("\n")


def run(args: argparse.Namespace) -> int:
    """Exit code: 0 no errors (warnings allowed), 1 placement errors, 2 the check could not run."""
    filenames: list[str] = list(args.filename or [])
    try:
        if args.output not in OUTPUTS:
            raise CheckInputError(f"unknown output format {args.output!r}: use one of {', '.join(OUTPUTS)}")
        if filenames and args.cluster:
            raise CheckInputError("give either -f/--filename or --cluster, not both")
        if filenames:
            objects: Sequence[Mapping[str, Any]] = load_manifests(filenames)
        elif args.cluster:
            objects = read_cluster(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
        else:
            raise CheckInputError("nothing to check: give -f/--filename PATH (file or directory) or --cluster")
    except CheckInputError as exc:
        print(f"burst-scaler check: error: {exc}", file=sys.stderr)
        return 2
    default_namespace = args.namespace or "default"
    findings = lint_objects(objects, default_namespace=default_namespace)
    checked = sum(1 for ref in burst_scalers(objects, default_namespace=default_namespace) if ref.tiers)
    if args.output == "json":
        render_json(findings, checked=checked, out=sys.stdout)
    else:
        render_human(findings, checked=checked, out=sys.stdout)
    return 1 if any(f.is_error for f in findings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="burst-scaler check",
        description="Placement lint: do the consumers scaled by burst-scaler fit the tier their trigger names? "
        "Exit 0 clean (warnings allowed), 1 placement errors, 2 the check could not run.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        resolve(args, os.environ)
    except FlagError as exc:
        print(f"burst-scaler check: error: {exc}", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
