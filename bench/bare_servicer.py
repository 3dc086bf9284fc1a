"""The ceiling for this stack: a grpc.aio servicer of the same proto that answers constants.

bench_rpc.py measures the scaler next to this process, with the same client, in the same run; the ratio of the
two is the scaler's own cost. Server options match scaler/server.py so only the handlers differ.

    python bench/bare_servicer.py [--address 127.0.0.1:0]   # prints "bare servicer on port N"
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from typing import Any

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from scaler.server import SERVER_OPTIONS


class BareServicer:
    """Constant answers with the shapes the scaler returns (one spec, one value, both int and float set)."""

    _SPEC = pb.GetMetricSpecResponse(
        metricSpecs=[pb.MetricSpec(metricName="oci-queue-bare-00000000", targetSize=10, targetSizeFloat=10.0)]
    )
    _VALUE = pb.GetMetricsResponse(
        metricValues=[pb.MetricValue(metricName="oci-queue-bare-00000000", metricValue=42, metricValueFloat=42.0)]
    )
    _ACTIVE = pb.IsActiveResponse(result=True)

    async def IsActive(self, request: pb.ScaledObjectRef, context: Any) -> pb.IsActiveResponse:
        return self._ACTIVE

    async def GetMetricSpec(self, request: pb.ScaledObjectRef, context: Any) -> pb.GetMetricSpecResponse:
        return self._SPEC

    async def GetMetrics(self, request: pb.GetMetricsRequest, context: Any) -> pb.GetMetricsResponse:
        return self._VALUE

    async def StreamIsActive(self, request: pb.ScaledObjectRef, context: Any) -> AsyncIterator[pb.IsActiveResponse]:
        yield self._ACTIVE
        await asyncio.Event().wait()

    async def StreamMetricSpec(
        self, request: pb.ScaledObjectRef, context: Any
    ) -> AsyncIterator[pb.GetMetricSpecResponse]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not implemented")
        yield pb.GetMetricSpecResponse()


async def serve(address: str) -> None:
    server = grpc.aio.server(options=SERVER_OPTIONS)
    externalscaler_pb2_grpc.add_ExternalScalerServicer_to_server(BareServicer(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port(address)
    await server.start()
    print(f"bare servicer on port {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:0")
    asyncio.run(serve(parser.parse_args().address))


if __name__ == "__main__":
    main()
