"""`python3 -m handout` (from scripts/): the same as scripts/handout.py."""

import sys

from .cli import main

sys.exit(main())
