"""The gRPC server: KEDA's ExternalScaler, grpc.health.v1 and reflection on one port, plain or (m)TLS.

Health reports NOT_SERVING until the app says start-up is done, and again first thing on shutdown, so Kubernetes
stops routing KEDA's new connections here before streams end and in-flight calls drain.
"""

from __future__ import annotations

from typing import Final

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from scaler._proto import externalscaler_pb2, externalscaler_pb2_grpc
from scaler.errors import ConfigError
from scaler.service import ExternalScalerService
from scaler.settings import TlsSettings

SCALER_SERVICE: Final = externalscaler_pb2.DESCRIPTOR.services_by_name["ExternalScaler"].full_name
HEALTH_SERVICE: Final = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name

SERVER_OPTIONS: Final = (
    # KEDA opens one StreamIsActive per ScaledObject on one shared connection: allow thousands of streams.
    ("grpc.max_concurrent_streams", 10_000),
    # gRPC core sheds calls that arrive faster than the handler loop accepts them, above 1000 pending (early drop)
    # and 3000 (hard), counted server-wide; KEDA re-opening 2000 streams at once after a restart would see CANCELLED
    # "Too many pending requests". Raise both well above one KEDA connection's worth of streams.
    ("grpc.server.max_pending_requests", 20_000),
    ("grpc.server.max_pending_requests_hard_limit", 20_000),
    # Never cut long-lived streams by connection age; KEDA treats a non-EOF end as an error and backs off.
    ("grpc.max_connection_age_ms", 2**31 - 1),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


def server_credentials(tls: TlsSettings) -> grpc.ServerCredentials:
    """PEM files to gRPC credentials; a client CA makes client certificates mandatory (mTLS)."""
    try:
        cert = tls.cert_file.read_bytes()
        key = tls.key_file.read_bytes()
        client_ca = tls.client_ca_file.read_bytes() if tls.client_ca_file else None
    except OSError as exc:
        raise ConfigError(f"cannot read TLS file: {exc}. Check --tls-cert, --tls-key and --tls-client-ca.") from exc
    return grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


class GrpcServer:
    """Owns the grpc.aio server and the health servicer; the app drives start and stop."""

    def __init__(self, *, service: ExternalScalerService, address: str, tls: TlsSettings | None) -> None:
        self._server = grpc.aio.server(options=SERVER_OPTIONS)
        externalscaler_pb2_grpc.add_ExternalScalerServicer_to_server(service, self._server)  # type: ignore[no-untyped-call]
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection((SCALER_SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME), self._server)
        if tls is None:
            self.port = self._server.add_insecure_port(address)
        else:
            self.port = self._server.add_secure_port(address, server_credentials(tls))
        if self.port == 0:
            raise ConfigError(f"cannot bind gRPC address {address!r}: in use or not a local address")

    async def start(self) -> None:
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.start()

    async def mark_serving(self) -> None:
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)

    async def mark_not_serving(self) -> None:
        """First step of a graceful stop: probes fail, so no new traffic is routed here."""
        await self.health.enter_graceful_shutdown()

    async def stop(self, grace: float) -> None:
        await self._server.stop(grace)

    async def _set_health(self, status: int) -> None:
        for name in ("", SCALER_SERVICE):
            await self.health.set(name, status)
