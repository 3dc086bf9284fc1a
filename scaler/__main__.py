"""`python -m scaler` is `burst-scaler`."""

from scaler.cli import main

raise SystemExit(main())
