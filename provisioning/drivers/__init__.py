"""Provisioning drivers by platform name: ``driver_for(target)`` opens the right one.

Driver modules import netmiko, which is slow to import and needed only when a device is talked to, so
the registry names modules and loads a class on first use; ``DRIVERS`` caches the loaded classes.
"""

from __future__ import annotations

from importlib import import_module

from provisioning.drivers.base import CliTarget, Driver, Transcript

#: platform -> "module:Class"; add a platform here (one line) to make it available
DRIVER_PATHS: dict[str, str] = {
    "huawei_olt": "provisioning.drivers.huawei_olt:HuaweiOltDriver",
    "zte_c300": "provisioning.drivers.zte_c300:ZteC300Driver",
    "yamaha": "provisioning.drivers.yamaha:YamahaDriver",
}

#: platform -> driver class, filled as platforms are first used
DRIVERS: dict[str, type[Driver]] = {}


def driver_class(platform: str) -> type[Driver]:
    """The driver class for a platform; KeyError names the known ones."""
    if platform not in DRIVERS:
        try:
            module, _, name = DRIVER_PATHS[platform].partition(":")
        except KeyError:
            known = ", ".join(sorted(DRIVER_PATHS))
            raise KeyError(f"no provisioning driver for platform {platform!r} (known: {known})") from None
        cls = getattr(import_module(module), name)
        if not (isinstance(cls, type) and issubclass(cls, Driver)):
            raise TypeError(f"{DRIVER_PATHS[platform]} is not a Driver")
        DRIVERS[platform] = cls
    return DRIVERS[platform]


def driver_for(target: CliTarget, transcript: Transcript | None = None, dry_run: bool = False) -> Driver:
    """A driver for ``target.platform``, not yet connected (use it in ``with``)."""
    return driver_class(target.platform)(target, transcript, dry_run=dry_run)
