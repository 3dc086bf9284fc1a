"""`python -m scaler`: the product's own commands (serve, check, metadata-table)."""

from scaler.cli import main

raise SystemExit(main())
