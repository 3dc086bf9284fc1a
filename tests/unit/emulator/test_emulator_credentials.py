"""Generated API keys and the OCI config files the emulator writes."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

import oci
import pytest
from cryptography.hazmat.primitives import serialization

from oci_emulator import ApiKey
from oci_emulator.credentials import write_oci_config

OCI_OCID = re.compile(r"^([0-9a-zA-Z-_]+[.:])([0-9a-zA-Z-_]*[.:]){3,}([0-9a-zA-Z-_]+)$")


@pytest.fixture(scope="module")
def key() -> ApiKey:
    return ApiKey.generate(region="eu-frankfurt-1")


def test_generated_identity_passes_sdk_validation(key: ApiKey) -> None:
    oci.config.validate_config(key.sdk_config())

    assert OCI_OCID.match(key.user)
    assert OCI_OCID.match(key.tenancy)
    assert key.key_id == f"{key.tenancy}/{key.user}/{key.fingerprint}"


def test_fingerprint_is_md5_of_the_der_public_key(key: ApiKey) -> None:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = hashlib.md5(der).hexdigest()

    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", key.fingerprint)
    assert key.fingerprint.replace(":", "") == expected


def test_written_config_loads_with_the_sdk_and_round_trips(key: ApiKey, tmp_path: Path) -> None:
    config_path = tmp_path / "nested" / "config"
    key_path = write_oci_config(key, config_path, profile="EMU", notes=("hello",))

    loaded = oci.config.from_file(str(config_path), profile_name="EMU")
    oci.config.validate_config(loaded)
    assert loaded["fingerprint"] == key.fingerprint
    assert loaded["region"] == "eu-frankfurt-1"
    assert Path(loaded["key_file"]) == key_path
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert config_path.read_text().startswith("# hello\n[EMU]\n")
    assert ApiKey.from_oci_config(config_path, "EMU") == key


def test_missing_profile_is_reported(key: ApiKey, tmp_path: Path) -> None:
    config_path = tmp_path / "config"
    write_oci_config(key, config_path)

    with pytest.raises(ValueError, match=r"no profile \[OTHER\]"):
        ApiKey.from_oci_config(config_path, "OTHER")
