"""OKE Burst Scaler: a KEDA external scaler that sizes consumer tiers from OCI Queue and Streaming backlog."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oke-burst-scaler")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
