"""The committed generated code must be exactly what scripts/gen_proto.py produces from protos/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from scaler._proto import externalscaler_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_matches_the_proto(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_proto"] = module
    spec.loader.exec_module(module)
    module.generate(tmp_path)
    committed = ROOT / "scaler" / "_proto"
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == sorted(p.name for p in committed.iterdir() if p.is_file() and p.suffix in {".py", ".pyi"})
    for name in names:
        assert (tmp_path / name).read_text() == (committed / name).read_text(), (
            f"{name} drifted: run scripts/gen_proto.py"
        )


def test_wire_contract_matches_keda() -> None:
    """Field numbers and RPC names KEDA's Go client relies on."""
    fields = {
        "ScaledObjectRef": {"name": 1, "namespace": 2, "scalerMetadata": 3},
        "IsActiveResponse": {"result": 1},
        "GetMetricSpecResponse": {"metricSpecs": 1},
        "MetricSpec": {"metricName": 1, "targetSize": 2, "targetSizeFloat": 3},
        "GetMetricsRequest": {"scaledObjectRef": 1, "metricName": 2},
        "GetMetricsResponse": {"metricValues": 1},
        "MetricValue": {"metricName": 1, "metricValue": 2, "metricValueFloat": 3},
    }
    for message, expected in fields.items():
        descriptor = pb.DESCRIPTOR.message_types_by_name[message]
        assert {f.name: f.number for f in descriptor.fields} == expected
    service = pb.DESCRIPTOR.services_by_name["ExternalScaler"]
    assert service.full_name == "externalscaler.ExternalScaler"
    methods = {m.name: (m.server_streaming, m.input_type.name, m.output_type.name) for m in service.methods}
    assert methods == {
        "IsActive": (False, "ScaledObjectRef", "IsActiveResponse"),
        "StreamIsActive": (True, "ScaledObjectRef", "IsActiveResponse"),
        "GetMetricSpec": (False, "ScaledObjectRef", "GetMetricSpecResponse"),
        "GetMetrics": (False, "GetMetricsRequest", "GetMetricsResponse"),
        "StreamMetricSpec": (True, "ScaledObjectRef", "GetMetricSpecResponse"),
    }
