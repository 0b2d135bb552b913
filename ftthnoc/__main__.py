"""``python -m ftthnoc`` is the ``ftthnoc`` command."""

from ftthnoc.cli import main

main()
