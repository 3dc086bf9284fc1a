"""``python -m onebox`` is ``burst-scaler``."""

from onebox.cli import main

raise SystemExit(main())
