"""``python -m oci_emulator``: the emulator on its own, without the burst-scaler CLI around it."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
