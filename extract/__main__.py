"""``python -m extract``: see :mod:`extract.cli`."""

import sys

from extract.cli import main

sys.exit(main())
