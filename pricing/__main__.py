"""Entry point for ``python -m pricing`` (see pricing/cli.py)."""

import sys

from pricing.cli import main

if __name__ == "__main__":
    sys.exit(main())
