"""``python -m load``: the same as the ``burst-load`` console script."""

import sys

from load.cli import main

sys.exit(main())
