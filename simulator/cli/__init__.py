"""SSH simulators of the town's devices: stateful interpreters of their command lines, served by asyncssh.

``SHELLS`` names one shell per vendor pack that declares a ``simulator_shell`` (``ftthnoc/vendors``): the
demo starts an OLT's or a router's shell from its pack, and an OLT of a vendor without a shell is an
error, never some other vendor's shell.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ftthnoc import vendors
from ftthnoc.errors import ConfigError
from simulator.vendors import olt_profile

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


def olt_shell_class(vendor: str) -> Any:
    """The shell that simulates an OLT of ``vendor``: its vendor pack's ``simulator_shell``. A vendor the
    simulator has no profile of, or whose pack names no shell, is a ``ConfigError`` that says what to add."""
    olt_profile(vendor)
    name = vendors.pack(vendor).simulator_shell
    if name is None:
        raise ConfigError(f"the vendor pack {vendor!r} names no simulator shell: write one in simulator/cli, "
                          f"register it in SHELLS and name it as simulator_shell in its pack.yaml")
    try:
        return shell_class(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
