"""The vendors' CLI as data: one YAML file per platform mapping a verb to its command templates.

Drivers render commands only from these files (``ftthnoc/vendors/<pack>/cli/<platform>.yaml``), so that a
firmware's different wording is a template change and the audit shows what the templates say. Jinja2
with ``StrictUndefined``: a missing value is an error, never an empty word sent to an OLT. An item may
render to several lines (a loop over service ports); blank lines are dropped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from ftthnoc import vendors

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


class CommandTemplates:
    """The templates of one platform: ``render("add_ont", spec=..., ...) -> [command, ...]``."""

    def __init__(self, platform: str, verbs: dict[str, list[jinja2.Template]]) -> None:
        self.platform = platform
        self._verbs = verbs

    def verbs(self) -> list[str]:
        return sorted(self._verbs)

    def render(self, verb: str, **context: Any) -> list[str]:
        try:
            items = self._verbs[verb]
        except KeyError:
            raise KeyError(f"{self.platform} templates have no verb {verb!r}") from None
        commands: list[str] = []
        for item in items:
            for line in item.render(**context).splitlines():
                if line.strip():
                    commands.append(" ".join(line.split()))
        return commands


def cli_file(name: str) -> Path:
    """A template or TextFSM parser file from the vendor pack that holds it."""
    return vendors.cli_file(name)


@cache
def templates_for(platform: str, directory: Path | None = None) -> CommandTemplates:
    """Load (once) and compile a platform's template file (from its vendor pack, or from ``directory``)."""
    path = directory / f"{platform}.yaml" if directory is not None else cli_file(f"{platform}.yaml")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: want a mapping of verb -> list of command templates")
    verbs: dict[str, list[jinja2.Template]] = {}
    for verb, items in document.items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{path}: {verb!r} must be a list of strings")
        verbs[str(verb)] = [_ENV.from_string(i) for i in items]
    return CommandTemplates(platform, verbs)
