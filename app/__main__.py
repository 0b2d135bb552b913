"""``python -m app`` is the ``ftthnoc`` command."""

from app.cli import main

main()
