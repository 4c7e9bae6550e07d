"""``python -m edgesla`` = the ``edgesla`` command."""

from edgesla.cli import main

main()
