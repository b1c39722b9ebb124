"""`python -m pricing`: runs the command line (cli/prices.py)."""

import sys

from cli.prices import main

if __name__ == "__main__":
    sys.exit(main())
