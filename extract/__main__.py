"""``python -m extract``: see :mod:`extract.cli`.

Ctrl-C while the libraries are still being imported (a second or two) must read like Ctrl-C
at any other moment: one line, no traceback.
"""

import sys

try:
    from extract.cli import main

    sys.exit(main())
except KeyboardInterrupt:
    print("error: interrupted; database left as it was", file=sys.stderr)
    sys.exit(130)
