"""`python -m local.chaos`: see local/chaos/cli.py."""

import sys

from local.chaos.cli import main

sys.exit(main())
