"""`burst-load` entry point.

The producer, reference consumer and observer land in their own modules; until then the command documents
itself and exits, so packaging and the console script are already in place and tested.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="burst-load",
        description="Load generator for OKE Burst Scaler: bursts into OCI Queue and Streaming (work in progress; "
        "see the project issues for produce / consume / observe / report).",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
