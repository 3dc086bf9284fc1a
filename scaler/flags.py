"""Flags that can also be set from the environment, declared once and read only for the command that runs.

Deployments configure burst-scaler and burst-load through their environment (``BURST_SCALER_<FLAG>``,
``BURST_LOAD_<FLAG>``: ``--max-staleness`` → ``BURST_SCALER_MAX_STALENESS``). The variables are read after the
command line is parsed, and only those of the chosen subcommand: a value meant for ``serve`` can never break
``metadata-table``. A bad value for the running command is reported with the variable's name, every problem at
once, and a flag given on the command line wins over the environment.

The OCI flag group (``--oci-auth``, ``--oci-config``, ``--oci-profile``, ``--oci-endpoint``) and the Kubernetes
flag group live here too, with the functions that turn them into settings, so every command spells them the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

from scaler.errors import ConfigError
from scaler.settings import KubeMode, KubeSettings, OciAuth, OciSettings

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})
_FLAGS_KEY: Final = "_env_flags"
"""Where a subcommand's parser keeps its flag declarations (a parser default, so only the chosen one is seen)."""


class _Unset:
    """Marks a flag not given on the command line: its environment variable, else its default, applies."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Final = _Unset()


class FlagError(ConfigError):
    """Environment variables whose values do not fit their flags; the message names each variable."""


@dataclass(frozen=True)
class EnvFlag:
    """One flag and the environment variable behind it."""

    dest: str
    flag: str
    env: str
    default: Any
    convert: Callable[[str], Any]
    kind: Literal["value", "list", "switch"]
    choices: tuple[str, ...] | None = None


class EnvFlags:
    """Adds flags to one (sub)command's parser and records them, so only that command's environment is read."""

    def __init__(self, parser: argparse.ArgumentParser, *, prefix: str) -> None:
        self.parser = parser
        self.prefix = prefix
        existing = parser.get_default(_FLAGS_KEY)
        self.flags: list[EnvFlag] = existing if isinstance(existing, list) else []
        parser.set_defaults(**{_FLAGS_KEY: self.flags})

    def env_name(self, flag: str) -> str:
        return self.prefix + flag.lstrip("-").replace("-", "_").upper()

    def add(
        self,
        flag: str,
        *,
        default: Any,
        help: str,
        type: Callable[[str], Any] = str,
        choices: Sequence[str] | None = None,
        aliases: Sequence[str] = (),
        shown: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A valued flag; a text default goes through ``type`` as argparse would convert it.

        ``aliases``: short forms (``-n``); ``shown``: the default as the help should describe it, when the value
        alone would mislead (a default decided later, such as ``$KUBECONFIG or ~/.kube/config``).
        """
        env, dest = self.env_name(flag), _dest(flag)
        self.flags.append(EnvFlag(dest, flag, env, default, type, "value", tuple(choices) if choices else None))
        if shown is None:
            shown = "none" if default is None else str(default)
        self.parser.add_argument(
            *aliases,
            flag,
            dest=dest,
            default=UNSET,
            type=type,
            choices=choices,
            help=f"{help} [env {env}; default: {shown}]",
            **kwargs,
        )

    def repeat(self, flag: str, *, help: str) -> None:
        """A repeatable flag; each value, and the environment variable, may hold a comma-separated list."""
        env, dest = self.env_name(flag), _dest(flag)
        self.flags.append(EnvFlag(dest, flag, env, [], str, "list"))
        self.parser.add_argument(
            flag, dest=dest, default=None, action="append", help=f"{help} (repeatable) [env {env}, comma-separated]"
        )

    def switch(self, flag: str, *, help: str) -> None:
        """An on/off flag; its environment variable takes true/false (1/0, yes/no, on/off)."""
        env, dest = self.env_name(flag), _dest(flag)
        self.flags.append(EnvFlag(dest, flag, env, False, str, "switch"))
        self.parser.add_argument(flag, dest=dest, default=UNSET, action="store_true", help=f"{help} [env {env}]")


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _from_env(spec: EnvFlag, raw: str) -> Any:
    if spec.kind == "switch":
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError("expected true or false")
        return word in _TRUE
    if spec.kind == "list":
        return _items(raw)
    value = spec.convert(raw)
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"expected one of {', '.join(spec.choices)}")
    return value


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill every flag of the chosen command not given on the command line from its environment, else its default.

    Raises FlagError listing every variable whose value does not fit its flag.
    """
    problems = []
    for spec in getattr(args, _FLAGS_KEY, None) or []:
        value = getattr(args, spec.dest)
        if spec.kind == "list" and value is not None:
            setattr(args, spec.dest, [item for raw in value for item in _items(raw)])
            continue
        if value is not UNSET and spec.kind != "list":
            continue
        raw = environ.get(spec.env)
        if raw is None:
            default = spec.default
            setattr(args, spec.dest, spec.convert(default) if isinstance(default, str) else default)
            continue
        try:
            setattr(args, spec.dest, _from_env(spec, raw))
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            problems.append(f"environment variable {spec.env}={raw!r} is invalid for {spec.flag}: {exc}")
    if problems:
        raise FlagError("; ".join(problems))


# --------------------------------------------------------------------------------------------- shared groups


def add_oci_flags(flags: EnvFlags) -> None:
    """How to reach OCI: the same four flags on every command that calls Queue or Streaming."""
    flags.add("--oci-auth", default="config", help="how to authenticate to OCI", choices=[a.value for a in OciAuth])
    flags.add("--oci-config", default="~/.oci/config", help="OCI CLI config file (auth mode config)")
    flags.add("--oci-profile", default="DEFAULT", help="profile in the OCI config file")
    flags.add(
        "--oci-endpoint",
        default=None,
        help="send every Queue and Streaming call to this URL (the local emulator, or a private endpoint)",
    )


def oci_settings_from(args: argparse.Namespace, **overrides: Any) -> OciSettings:
    """OciSettings from the OCI flag group; ``overrides`` set fields no flag carries (e.g. a longer read timeout)."""
    settings = OciSettings(
        auth=OciAuth(args.oci_auth),
        config_file=Path(args.oci_config),
        profile=args.oci_profile,
        endpoint=args.oci_endpoint or None,
    )
    return replace(settings, **overrides)


def add_kube_flags(flags: EnvFlags, *, modes: Sequence[KubeMode], help: str, kubeconfig_help: str) -> None:
    """``--kube`` (the modes this command supports), ``--kubeconfig`` and ``--kube-context``."""
    flags.add("--kube", default=KubeMode.AUTO.value, choices=[m.value for m in modes], help=help)
    flags.add("--kubeconfig", default=None, help=kubeconfig_help)
    flags.add("--kube-context", default=None, help="kubeconfig context")


def kube_settings_from(args: argparse.Namespace) -> KubeSettings:
    return KubeSettings(
        mode=KubeMode(args.kube),
        kubeconfig=Path(args.kubeconfig) if args.kubeconfig else None,
        context=args.kube_context or None,
    )


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be > 0")
    return value


LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(text: str) -> str:
    """A logging level name in any case (``info`` = ``INFO``), as the logging module itself accepts it."""
    return text.upper()
