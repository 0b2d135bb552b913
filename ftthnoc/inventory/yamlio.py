"""The inventory as one YAML file: a mapping of section names to lists of records.

Read with YAML's safe loader, refusing a key given twice in one mapping (a section or a column: YAML
would silently keep the last). Rows are numbered by the line each record starts on. Written with
sections in dependency order and Japanese text as it is (no ``\\u`` escapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ftthnoc.errors import InventoryError
from ftthnoc.inventory.rows import Record, SourceRow, check_sections
from ftthnoc.inventory.schemas import SECTIONS


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"found the key {key_node.value!r} twice in one mapping", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _one_line(path: Path, exc: yaml.YAMLError) -> str:
    """A YAML error as one line: the file, the line, what is wrong (YAML's own text spans several)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"{path.name} line {exc.problem_mark.line + 1}: not valid YAML: {exc.problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        return f"{path.name}: not valid YAML: {exc.reason} (character {exc.character!r} at position {exc.position})"
    return f"{path.name}: not valid YAML: {' '.join(str(exc).split())}"


def read_yaml(path: Path, section: str | None = None) -> list[SourceRow]:
    """Rows of a YAML inventory file, numbered by the line each record starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InventoryError(f"{path.name} is not UTF-8 text") from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise InventoryError(_one_line(path, exc)) from None
    except RecursionError:
        raise InventoryError(f"{path.name}: not valid YAML: nested too deeply") from None
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise InventoryError(f"{path.name}: the top level must be a mapping of sections")
    check_sections(data.keys())
    # The node of each section, for line numbers: the last one, as for the value (merged keys come first).
    nodes = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    rows: list[SourceRow] = []
    for name, records in data.items():
        if (section is not None and name != section) or records is None:
            continue
        items = nodes.get(name)
        if not isinstance(records, list) or not isinstance(items, yaml.SequenceNode):
            raise InventoryError(f"{path.name}: section {name!r} must be a list of records")
        if len(items.value) != len(records):  # pragma: no cover - a merge key the loader did not flatten
            raise InventoryError(f"{path.name}: section {name!r} cannot be read record by record")
        for record, item_node in zip(records, items.value, strict=True):
            rows.append(SourceRow(name, item_node.start_mark.line + 1, record, path.name))
    return rows

def write_yaml(document: Mapping[str, list[Record]], path: Path) -> None:
    """Write a document as one YAML file (sections in dependency order, Japanese text kept readable)."""
    ordered = {name: document[name] for name in SECTIONS if name in document}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# ftthnoc inventory document (columns: python -m ftthnoc.inventory.schemas)\n")
        yaml.safe_dump(ordered, fh, allow_unicode=True, sort_keys=False, default_flow_style=None, width=110)
