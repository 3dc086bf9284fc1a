"""Generated gRPC code for KEDA's externalscaler protocol; see scripts/gen_proto.py."""
