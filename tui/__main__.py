"""`python -m jobdeck.tui` is the `jobdeck` command."""

import sys

from jobdeck.tui.cli import main

sys.exit(main())
