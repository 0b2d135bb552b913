"""snmpsim variation modules of the simulated town (values computed when an agent answers).

Each module here is both importable, so that tests compute the value an agent must give, and loadable
by ``snmpsim-command-responder``, which executes every ``.py`` file of its ``--variation-modules-dir``.
``TownAgents`` therefore copies the modules it needs into a directory of their own: snmpsim would also
try to load this ``__init__.py`` as a module, and stop initialising the others when it found no hooks.
"""
