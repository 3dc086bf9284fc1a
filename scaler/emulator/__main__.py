"""``python -m scaler.emulator``: the emulator command without the rest of the scaler CLI."""

from __future__ import annotations

import argparse
import logging
import sys

from .cli import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scaler.emulator", description="Run the local OCI Queue and Streaming emulator."
    )
    add_arguments(parser)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
