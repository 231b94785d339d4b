"""``python -m kg`` is the ``diplograph`` command."""

import sys

from kg.cli import main

sys.exit(main())
