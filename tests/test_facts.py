"""docs/facts.md and the code say the same: its tables are read here and compared with the constants."""

from __future__ import annotations

import re
from pathlib import Path

from ftthnoc.config import default_thresholds
from ftthnoc.kpi.figures import MEXT_BANDWIDTH
from ftthnoc.targets import FTTH_SUBSCRIBERS, TELEWORK_OFFICE_REDUCTION

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "docs" / "facts.md"


def _section(title: str) -> str:
    text = FACTS.read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"docs/facts.md has no section {title!r}"
    return m.group(1)


def _rows(section: str) -> list[list[str]]:
    """The cells of a section's Markdown table, separator row left out."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("|") and not re.fullmatch(r"[|\-\s]+", line)]


def _number(cell: str) -> float:
    return float(cell.replace("−", "-").replace(",", "").rstrip(" %"))


def test_the_mext_table_is_the_one_the_kpi_interpolates() -> None:
    pupils, mbps = _rows(_section("MEXT's recommended school bandwidth"))
    assert pupils[0] == "pupils" and mbps[0] == "Mbps"
    assert list(zip(map(_number, pupils[1:]), map(_number, mbps[1:]), strict=True)) == [
        (float(p), float(m)) for p, m in MEXT_BANDWIDTH]


def test_the_optical_limits_are_the_configurations_defaults() -> None:
    header, *rows = _rows(_section("Optical budget"))
    assert header == ["class", "critical low", "warning low", "warning high", "critical high"]
    documented = {r[0]: tuple(map(_number, r[1:])) for r in rows}
    defaults = {cls: (t.rx_low_critical, t.rx_low_warning, t.rx_high_warning, t.rx_high_critical)
                for cls, t in default_thresholds().items()}
    assert documented == defaults


def test_the_targets_are_the_ones_the_kpis_compare_with() -> None:
    rows = {r[0]: r[1] for r in _rows(_section("The town's targets"))[1:]}
    assert _number(rows["FTTH subscribing households"]) == FTTH_SUBSCRIBERS
    assert _number(rows["town staff office attendance"]) == -100 * TELEWORK_OFFICE_REDUCTION


def test_every_file_the_page_names_exists() -> None:
    named = set(re.findall(r"`((?:ftthnoc|tests|docs)/[^`<>*]+)`", FACTS.read_text(encoding="utf-8")))
    assert named, "the page names no file"
    assert sorted(n for n in named if not (ROOT / n.split(",")[0].split(" ")[0]).exists()) == []
