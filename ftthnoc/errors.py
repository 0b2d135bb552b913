"""The project's own exceptions: callers never need to know pysnmp, netmiko or SQLAlchemy errors."""

from __future__ import annotations


class FtthnocError(Exception):
    """Base of every error ftthnoc raises on purpose; ``str()`` is one line fit for an operator."""


class ConfigError(FtthnocError):
    """The configuration file or environment is wrong."""


class SnmpError(FtthnocError):
    """An SNMP exchange failed. ``target`` names the device as configured."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target
        self.reason = message


class SnmpTimeout(SnmpError):
    """No answer within timeout × (retries + 1)."""


class SnmpAuthError(SnmpError):
    """Wrong community (silence), unknown v3 user, wrong key or unsupported security level."""


class SnmpProtocolError(SnmpError):
    """The agent answered with something that is not a well-formed SNMP response."""


class SnmpLimitExceeded(SnmpProtocolError):
    """A poll reached one of its bounds (rows of a subtree, requests, seconds): the agent answers without end."""


class SnmpAgentError(SnmpError):
    """The agent answered with an error status (noSuchName, genErr, tooBig ...)."""


class ModuleError(FtthnocError):
    """A device module (YAML) is malformed or names an unknown quirk."""


class InventoryError(FtthnocError):
    """An inventory operation was refused; nothing was written."""


class ImportRowError(InventoryError):
    """One or more rows of an import are bad; ``errors`` lists them as (row, message)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        lines = "; ".join(f"row {row}: {msg}" for row, msg in errors[:20])
        more = f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} bad row(s), nothing written: {lines}{more}")
        self.errors = errors
