"""The composition root: the ``ftthnoc`` command line and the wiring of pollers, consumers, the API and the
simulators. The top layer: it may import every package, and no package imports it (an import-linter
``layers`` contract in ``pyproject.toml``, without exceptions)."""
