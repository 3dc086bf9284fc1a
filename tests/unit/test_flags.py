"""scaler.flags and the Kubernetes client factory: one way to read flags from the environment, one meaning of auto."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from scaler.errors import ConfigError
from scaler.flags import EnvFlags, FlagError, log_level, positive_float, resolve
from scaler.kube import api_client, resolve_mode
from scaler.settings import KubeMode, KubeSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t")
    sub = parser.add_subparsers(dest="command", required=True)
    one = EnvFlags(sub.add_parser("one"), prefix="T_")
    one.add("--size", default=3.0, type=positive_float, help="size")
    one.add("--mode", default="a", choices=["a", "b"], help="mode")
    one.add("--level", default="info", type=log_level, choices=["INFO", "DEBUG"], help="level")
    one.repeat("--name", help="names")
    one.switch("--quiet", help="quiet")
    EnvFlags(sub.add_parser("two"), prefix="T_").add("--other", default=1, type=int, help="other")
    return parser


def test_command_line_wins_then_environment_then_default() -> None:
    args = _parser().parse_args(["one", "--size", "5", "--name", "x,y", "--name", "z"])
    resolve(args, {"T_SIZE": "7", "T_MODE": "b", "T_QUIET": "yes", "T_NAME": "ignored"})
    assert (args.size, args.mode, args.quiet, args.name, args.level) == (5.0, "b", True, ["x", "y", "z"], "INFO")
    args = _parser().parse_args(["one"])
    resolve(args, {"T_NAME": "p, q,", "T_LEVEL": "debug"})
    assert (args.size, args.mode, args.quiet, args.name, args.level) == (3.0, "a", False, ["p", "q"], "DEBUG")


def test_only_the_chosen_command_reads_its_environment() -> None:
    args = _parser().parse_args(["two"])
    resolve(args, {"T_SIZE": "abc", "T_MODE": "zzz"})
    assert args.other == 1
    assert not hasattr(args, "size")


def test_every_bad_variable_is_named_at_once() -> None:
    args = _parser().parse_args(["one"])
    with pytest.raises(FlagError) as caught:
        resolve(args, {"T_SIZE": "-1", "T_MODE": "c", "T_QUIET": "maybe"})
    assert str(caught.value) == (
        "environment variable T_SIZE='-1' is invalid for --size: must be > 0; "
        "environment variable T_MODE='c' is invalid for --mode: expected one of a, b; "
        "environment variable T_QUIET='maybe' is invalid for --quiet: expected true or false"
    )
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    ("settings", "environ", "files", "mode"),
    [
        (KubeSettings(mode=KubeMode.OFF), {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, [], KubeMode.OFF),
        (KubeSettings(), {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, ["config"], KubeMode.IN_CLUSTER),
        (KubeSettings(kubeconfig=Path("k")), {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, [], KubeMode.KUBECONFIG),
        (KubeSettings(context="dev"), {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, [], KubeMode.KUBECONFIG),
        (KubeSettings(), {}, ["config"], KubeMode.KUBECONFIG),
        (KubeSettings(), {}, [], KubeMode.OFF),
    ],
    ids=["off", "in-pod", "explicit-kubeconfig", "explicit-context", "kubeconfig-file", "nothing"],
)
def test_auto_means_one_thing(
    tmp_path: Path, settings: KubeSettings, environ: dict[str, str], files: list[str], mode: KubeMode
) -> None:
    for name in files:
        (tmp_path / name).write_text("")
    missing = str(tmp_path / "missing")
    env = {"KUBECONFIG": f"{missing}:{tmp_path / 'config'}", **environ}
    assert resolve_mode(settings, env) is mode


def test_factory_returns_none_or_a_clear_error_when_nothing_is_configured(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(tmp_path / "missing")}
    assert api_client(KubeSettings(), fix="Pass --kubeconfig.", environ=env) is None
    with pytest.raises(ConfigError, match=r"not running in a pod and no kubeconfig found\. Pass --kubeconfig\.$"):
        api_client(KubeSettings(), fix="Pass --kubeconfig.", required=True, environ=env)
    with pytest.raises(ConfigError, match=rf"cannot load Kubernetes configuration from {tmp_path}/nope: .* Fix it\.$"):
        api_client(KubeSettings(kubeconfig=tmp_path / "nope"), fix="Fix it.", environ=env)
