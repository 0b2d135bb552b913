"""SSH simulators of the town's devices: stateful interpreters of their command lines, served by asyncssh.

``SHELLS`` names one shell per vendor pack that declares a ``simulator_shell`` (``ftthnoc/vendors``): the
demo starts an OLT's or a router's shell from its pack, and an OLT of a vendor without a shell is an
error, never some other vendor's shell.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: shell name (a pack's ``simulator_shell``) → "module:Class"
SHELLS: dict[str, str] = {
    "huawei": "simulator.cli.huawei:HuaweiShell",
    "zte": "simulator.cli.zte:ZteShell",
    "yamaha": "simulator.cli.yamaha:YamahaShell",
}


def shell_class(name: str) -> Any:
    """The shell class registered under ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        module, _, attr = SHELLS[name].partition(":")
    except KeyError:
        raise KeyError(f"no simulator shell {name!r} (known: {', '.join(sorted(SHELLS))})") from None
    return getattr(import_module(module), attr)
