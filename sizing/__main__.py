"""`python -m sizing` — see sizing/cli.py."""

import sys

from sizing.cli import main

sys.exit(main())
