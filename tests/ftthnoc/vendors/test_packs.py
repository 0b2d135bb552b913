"""Every vendor pack held to the same checklist: what a newcomer must bring to add a vendor.

A pack passes when: its pack.yaml loads; its README names every source it cites; every OID of its
modules carries a ``# source:`` comment (``# source: unverified …`` where no public source exists, and the
module is then listed under ``unverified``); every module has a golden fixture (a recording we did not
make, with the expected samples written by hand); every CLI platform has a driver, golden transcripts
and, for the demo, a simulator shell; an OLT the demo simulates has a simulator profile and its tables'
writer; its trap rules load.
"""

from __future__ import annotations

import re

import pytest

from collectors.snmp.module import get_module
from collectors.traps.mapping import parse_rules
from ftthnoc import vendors
from provisioning.drivers import DRIVER_PATHS
from simulator.cli import SHELLS
from simulator.snmprec import OLT_WRITERS
from simulator.vendors import OLT_PROFILES

from .golden import FIXTURES

PACKS = sorted(vendors.packs())
OID_LINE = re.compile(r"^\s*(?:-\s*)?(?:\{.*)?\boid:\s*[\d.]+")


@pytest.mark.parametrize("name", PACKS)
def test_the_pack_names_its_sources_in_its_readme(name: str) -> None:
    pack = vendors.pack(name)
    readme = pack.path / "README.md"
    assert readme.is_file(), f"{name}: no README.md"
    text = readme.read_text(encoding="utf-8")
    missing = [key for key in pack.sources if key not in text]
    assert not missing, f"{name}: README.md does not name sources {missing}"


@pytest.mark.parametrize("name", PACKS)
def test_every_oid_says_where_it_comes_from(name: str) -> None:
    pack = vendors.pack(name)
    for path in sorted(pack.snmp_dir.glob("*.yaml")):
        unsourced = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if OID_LINE.match(line) and "# source:" not in line]
        assert not unsourced, f"{name}/{path.name}: OIDs without '# source:': {unsourced[:3]}"
        for line in path.read_text(encoding="utf-8").splitlines():
            if "# source: unverified" in line:
                assert any(path.stem in u for u in pack.unverified), \
                    f"{name}: {path.stem} has unverified OIDs but is not listed under unverified"
            for key in re.findall(r"# source: ([\w-]+)", line):
                assert key == "unverified" or key in pack.sources, f"{name}/{path.name}: unknown source {key!r}"


@pytest.mark.parametrize("name", PACKS)
def test_every_module_has_a_golden_fixture(name: str) -> None:
    pack = vendors.pack(name)
    for module in pack.modules():
        get_module(module)  # loads and validates
        cases = sorted((FIXTURES / name / "snmp" / module).glob("*.snmprec"))
        assert cases, f"{name}: module {module} has no recorded walk under tests/fixtures/vendors/{name}/snmp/{module}/"
        for walk in cases:
            assert walk.with_suffix(".expected.yaml").is_file(), f"{walk.name} has no .expected.yaml"


@pytest.mark.parametrize("name", PACKS)
def test_every_fixture_names_its_source(name: str) -> None:
    root = FIXTURES / name
    files = [p for p in root.rglob("*") if p.is_file() and p.name != "README.md"] if root.is_dir() else []
    if not files:
        assert not vendors.pack(name).modules() and not list(vendors.pack(name).cli_dir.glob("*.yaml")), \
            f"{name} has modules or CLI templates but no fixtures"
        return
    readme = (root / "README.md").read_text(encoding="utf-8")
    recordings = [p for p in files if not p.name.endswith(".expected.yaml")]
    unnamed = [p.relative_to(root).as_posix() for p in recordings if p.name not in readme]
    assert not unnamed, f"tests/fixtures/vendors/{name}/README.md does not name the source of {unnamed}"


@pytest.mark.parametrize("name", PACKS)
def test_every_cli_platform_has_a_driver_transcripts_and_a_shell(name: str) -> None:
    pack = vendors.pack(name)
    for template in sorted(pack.cli_dir.glob("*.yaml")):
        platform = template.stem
        assert platform in DRIVER_PATHS, f"{name}: CLI platform {platform} has no driver in provisioning.drivers"
        transcripts = sorted((FIXTURES / name / "cli" / platform).glob("*.txt"))
        assert transcripts, f"{name}: platform {platform} has no golden transcript under tests/fixtures"
        for t in transcripts:
            assert t.with_suffix(".expected.yaml").is_file(), f"{t.name} has no .expected.yaml"
    if pack.olt is not None:
        assert (pack.cli_dir / f"{pack.olt.cli_platform.value}.yaml").is_file()
        assert pack.olt.onu_module.value in pack.modules()
    if pack.simulator_shell is not None:
        assert pack.simulator_shell in SHELLS, f"{name}: simulator shell {pack.simulator_shell} is not registered"


@pytest.mark.parametrize("name", PACKS)
def test_a_simulated_olt_has_a_profile_and_a_writer(name: str) -> None:
    pack = vendors.pack(name)
    if pack.olt is None or pack.simulator_shell is None:
        assert name not in OLT_PROFILES, f"{name}: a simulator profile for a pack that is not a simulated OLT"
        return
    assert name in OLT_PROFILES, f"{name}: no OltProfile in simulator/vendors.py"
    assert OLT_PROFILES[name].snmprec in OLT_WRITERS, f"{name}: its profile's writer is not in snmprec.OLT_WRITERS"


@pytest.mark.parametrize("name", PACKS)
def test_the_trap_rules_load(name: str) -> None:
    pack = vendors.pack(name)
    if pack.trap_rules.is_file():
        rules = parse_rules(pack.trap_rules.read_text(encoding="utf-8"), str(pack.trap_rules)).rules
        unverified = [r.name for r in rules if not r.verified]
        for rule in unverified:
            assert any(rule in u or "trap" in u for u in pack.unverified), f"{name}: rule {rule} unverified, unlisted"
