"""``python -m transferlearn SUBCOMMAND``: the ``transferlearn`` command."""
import sys

from transferlearn.cli.main import main

sys.exit(main())
