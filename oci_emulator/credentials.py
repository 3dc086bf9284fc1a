"""API-key credentials for talking to the emulator, and the OCI config file that carries them.

The emulator verifies request signatures (see ``auth``), so clients need a real key pair that the emulator knows.
Generating one at start-up and writing a standard OCI CLI config lets the unmodified SDK, the oci CLI and the scaler
itself authenticate with nothing but ``--config-file``. Loading an existing profile instead keeps a developer's own
config usable against the emulator.
"""

from __future__ import annotations

import configparser
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .ocids import new_ocid

DEFAULT_REGION = "us-ashburn-1"


def fingerprint(public_key: RSAPublicKey) -> str:
    """OCI's key fingerprint: MD5 of the DER SubjectPublicKeyInfo, as colon-separated lower-case hex pairs."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class ApiKey:
    """One OCI API-key identity: the fields of a config profile, with the private key inline."""

    tenancy: str
    user: str
    fingerprint: str
    private_key_pem: str
    region: str = DEFAULT_REGION

    @property
    def key_id(self) -> str:
        """The ``keyId`` the SDK puts in its signature header."""
        return f"{self.tenancy}/{self.user}/{self.fingerprint}"

    def public_key(self) -> RSAPublicKey:
        private = serialization.load_pem_private_key(self.private_key_pem.encode("ascii"), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("OCI API keys must be RSA keys")
        return private.public_key()

    def sdk_config(self) -> dict[str, str]:
        """A dict the SDK accepts as ``config`` (``key_content`` instead of ``key_file``)."""
        return {
            "user": self.user,
            "tenancy": self.tenancy,
            "fingerprint": self.fingerprint,
            "key_content": self.private_key_pem,
            "region": self.region,
        }

    @classmethod
    def generate(cls, *, region: str = DEFAULT_REGION, tenancy: str | None = None, user: str | None = None) -> ApiKey:
        """A fresh 2048-bit RSA key with new (or the given) tenancy and user OCIDs."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        return cls(
            tenancy=tenancy or new_ocid("tenancy"),
            user=user or new_ocid("user"),
            fingerprint=fingerprint(private.public_key()),
            private_key_pem=pem,
            region=region,
        )

    @classmethod
    def from_oci_config(cls, path: Path, profile: str = "DEFAULT") -> ApiKey:
        """Load a profile of an existing OCI config file (the key file is read and decrypted into memory)."""
        parser = configparser.ConfigParser(interpolation=None)
        if not parser.read(path):
            raise ValueError(f"OCI config {path} cannot be read")
        if profile != "DEFAULT" and not parser.has_section(profile):
            raise ValueError(f"OCI config {path} has no profile [{profile}]")
        section = parser[profile]
        missing = [name for name in ("user", "tenancy", "fingerprint", "key_file") if not section.get(name)]
        if missing:
            raise ValueError(f"profile [{profile}] of {path} lacks {', '.join(missing)}")
        key_path = Path(section["key_file"]).expanduser()
        passphrase = section.get("pass_phrase")
        private = serialization.load_pem_private_key(
            key_path.read_bytes(), password=passphrase.encode("utf-8") if passphrase else None
        )
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError(f"key file {key_path} does not hold an RSA private key")
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        return cls(
            tenancy=section["tenancy"],
            user=section["user"],
            fingerprint=section["fingerprint"],
            private_key_pem=pem,
            region=section.get("region") or DEFAULT_REGION,
        )


def write_oci_config(key: ApiKey, path: Path, *, profile: str = "DEFAULT", notes: tuple[str, ...] = ()) -> Path:
    """Write an OCI config with one profile (replacing the file) and its key file beside it, mode 0600.

    Returns the path of the key file. ``notes`` become comment lines at the top (endpoint, compartment).
    """
    path = path.expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    key_path = path.with_name(f"{path.name}.{profile}.key.pem")
    _write_private(key_path, key.private_key_pem)
    lines = [f"# {note}" for note in notes]
    lines += [
        f"[{profile}]",
        f"user={key.user}",
        f"fingerprint={key.fingerprint}",
        f"tenancy={key.tenancy}",
        f"region={key.region}",
        f"key_file={key_path}",
        "",
    ]
    _write_private(path, "\n".join(lines))
    return key_path


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
