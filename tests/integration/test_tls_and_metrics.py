"""TLS, mTLS (KEDA's TriggerAuthentication tlsClientCert path) and the Prometheus endpoint, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest

from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import TlsSettings
from tests.conftest import stub_for
from tests.support.certs import make_pki
from tests.support.fakes import FakeQueueSource

REF = pb.ScaledObjectRef(name="a", namespace="b", scalerMetadata={"source": "oci-queue", "queueId": "ocid1.queue.x"})


async def test_tls_server(start_scaler: Any, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    app = await start_scaler(queue_source=FakeQueueSource(visible=4), tls=TlsSettings(pki.server_cert, pki.server_key))
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{app.port}", credentials) as channel:
        assert (await stub_for(channel).IsActive(REF)).result is True
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as plain:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub_for(plain).IsActive(REF, timeout=2)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls_requires_a_client_certificate(start_scaler: Any, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    app = await start_scaler(
        queue_source=FakeQueueSource(visible=4), tls=TlsSettings(pki.server_cert, pki.server_key, pki.ca)
    )
    with_client = grpc.ssl_channel_credentials(
        root_certificates=pki.ca.read_bytes(),
        private_key=pki.client_key.read_bytes(),
        certificate_chain=pki.client_cert.read_bytes(),
    )
    async with grpc.aio.secure_channel(f"localhost:{app.port}", with_client) as channel:
        assert (await stub_for(channel).IsActive(REF)).result is True
    without_client = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{app.port}", without_client) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub_for(channel).IsActive(REF, timeout=2)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_metrics_endpoint_exports_rpc_and_backlog_series(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=17), metrics_address="127.0.0.1:0")
    stub = stub_for(channel_for(app))
    await stub.IsActive(REF)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.IsActive(pb.ScaledObjectRef(name="bad", namespace="b"))
    assert app.metrics_port
    body = await asyncio.to_thread(_scrape, app.metrics_port)
    assert 'burst_scaler_rpc_total{code="OK",method="IsActive"} 1.0' in body
    assert 'burst_scaler_rpc_total{code="INVALID_ARGUMENT",method="IsActive"} 1.0' in body
    assert 'burst_scaler_backlog_messages{metric="' in body
    assert 'namespace="b",scaledobject="a"} 17.0' in body
    assert "ocid1" not in body


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())
