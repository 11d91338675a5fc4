"""``python -m transferlearn.data describe|push|pull ...`` (see :mod:`transferlearn.cli.data`)."""
import sys

from transferlearn.cli.data import main

sys.exit(main())
