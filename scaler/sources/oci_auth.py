"""Turn the configured OCI auth mode into what every SDK client constructor needs: a config dict and a signer.

KEDA never forwards TriggerAuthentication secrets to an external scaler, so the scaler authenticates to OCI by
its own identity. This is the only module that knows the four modes; clients just receive ``OciCredentials``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import oci

from scaler.errors import ConfigError
from scaler.settings import OciAuth, OciSettings


@dataclass(frozen=True)
class OciCredentials:
    """Keyword arguments for an SDK client: ``Client(creds.config, signer=creds.signer, ...)``."""

    config: dict[str, Any]
    signer: Any | None

    def client_kwargs(self) -> dict[str, Any]:
        return {} if self.signer is None else {"signer": self.signer}


def load_credentials(settings: OciSettings) -> OciCredentials:
    """Build credentials once at start-up; failures name the mode and the fix instead of an SDK traceback."""
    try:
        if settings.auth is OciAuth.CONFIG:
            path = settings.config_file.expanduser()
            config = oci.config.from_file(str(path), settings.profile)
            oci.config.validate_config(config)
            return OciCredentials(config=config, signer=None)
        if settings.auth is OciAuth.INSTANCE_PRINCIPAL:
            signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
        elif settings.auth is OciAuth.RESOURCE_PRINCIPAL:
            signer = oci.auth.signers.get_resource_principals_signer()
        else:
            signer = oci.auth.signers.get_oke_workload_identity_resource_principal_signer()
    except Exception as exc:  # the SDK raises a zoo of types here; all mean "cannot authenticate"
        raise ConfigError(
            f"cannot set up OCI auth mode {settings.auth.value!r}: {exc}. "
            "Check --oci-auth, --oci-config and --oci-profile (or the pod's workload identity / principal setup)."
        ) from exc
    region = getattr(signer, "region", None)
    return OciCredentials(config={"region": region} if region else {}, signer=signer)
