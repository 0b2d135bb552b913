"""A third OLT vendor added as a pack: what asks vendor facts works from the pack or fails loudly, and
nothing behaves as Huawei or ZTE for it (issue 10).

The pack ``acme`` lives in a temporary folder the registry is pointed at (``vendors.add_pack_dir``): its
facts deliberately differ from both vendors' (serial prefix ``ACME``, ONT ids 3–66, its own module and
CLI platform), so that a code path which fell back to one of them would show.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from collectors.runner import threshold_families
from collectors.snmp import module as snmp_module
from collectors.snmp.module import get_module
from collectors.traps import mapping
from ftthnoc import vendors
from ftthnoc.config import Config, Target
from ftthnoc.errors import ConfigError
from ftthnoc.inventory.schemas import OltRow
from provisioning.drivers import driver_for
from provisioning.drivers.base import ProvisioningError
from provisioning.enrol import Provisioner
from provisioning.household import OltView
from provisioning.verify import OltSnmp
from simulator import specs
from simulator.cli import olt_shell_class
from simulator.cli.olt_state import OltState
from simulator.snmprec import olt_records
from simulator.town import generate_town
from simulator.vendors import OLT_PROFILES, olt_profile

NO_PROFILE = "the simulator has no profile for OLT vendor 'acme'"

PACK_YAML = """\
name: acme
title: Acme GPON OLTs (a test's vendor)
role: olt
sources:
  acme-manual: "Acme OLT-9 MIB reference (a test's source)"
olt:
  serial_prefixes: {value: [ACME], source: acme-manual}
  first_ont_id: {value: 3, source: acme-manual}
  last_ont_id: {value: 66, source: acme-manual}
  onu_module: {value: acme_gpon, source: acme-manual}
  cli_platform: {value: acme_olt, source: project}
"""

MODULE_YAML = """\
name: acme_gpon
description: Acme ONUs (a test's module)
target_label: olt
indexes:
  onu:
    - {labelname: pon_port}  # source: acme-manual
    - {labelname: onu_id}  # source: acme-manual
metrics:
  - name: ftth_onu_up
    oid: 1.3.6.1.4.1.99999.1.1.1  # source: acme-manual
    index: onu
    map: {1: 1, 2: 0}  # source: acme-manual
    help: 1 if the ONU is up
"""


def _clear_collector_caches() -> None:
    for fn in (snmp_module.builtin_paths, snmp_module.builtin_modules, snmp_module._builtin, mapping.builtin_rules):
        fn.cache_clear()


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[vendors.Pack]:
    folder = tmp_path / "acme"
    (folder / "snmp").mkdir(parents=True)
    (folder / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (folder / "README.md").write_text("# acme\n\nSources: acme-manual.\n", encoding="utf-8")
    (folder / "snmp" / "acme_gpon.yaml").write_text(textwrap.dedent(MODULE_YAML), encoding="utf-8")
    vendors.add_pack_dir(tmp_path)
    _clear_collector_caches()
    try:
        yield vendors.pack("acme")
    finally:
        vendors.remove_pack_dir(tmp_path)
        _clear_collector_caches()


def test_the_registry_reads_the_third_pack_from_its_folder(acme: vendors.Pack) -> None:
    assert vendors.olt_vendors() == ("huawei", "zte", "acme")
    facts = vendors.olt("acme")
    assert (facts.first_ont_id.value, facts.last_ont_id.value) == (3, 66)
    assert vendors.olt_for_platform("acme_olt") is facts
    assert vendors.vendor_of_serial("ACME00000001") == "acme"
    assert vendors.vendor_of_serial("ZTEG00000001") == "zte"
    assert vendors.olt_modules("acme") == frozenset({"acme_gpon"})
    assert vendors.module_dirs()[-1] == acme.snmp_dir


def test_a_pack_name_in_two_folders_is_refused(acme: vendors.Pack, tmp_path: Path) -> None:
    other = tmp_path / "more"
    (other / "zte").mkdir(parents=True)
    (other / "zte" / "pack.yaml").write_text(PACK_YAML.replace("acme", "zte"), encoding="utf-8")
    vendors.add_pack_dir(other)
    try:
        with pytest.raises(ConfigError, match="two vendor packs are named zte"):
            vendors.packs()
    finally:
        vendors.remove_pack_dir(other)


def test_the_inventory_takes_the_vendor_without_a_migration(acme: vendors.Pack) -> None:
    row = OltRow.model_validate({"name": "acme-olt1", "district": "chiyoda", "vendor": "ACME", "model": "OLT-9",
                                 "address": "127.0.0.1:161", "pon_class": "B+", "auth": "public_v2",
                                 "modules": ["if_mib", "acme_gpon"]})
    assert row.vendor == "acme"


def test_the_collectors_read_the_packs_module(acme: vendors.Pack) -> None:
    assert get_module("acme_gpon").name == "acme_gpon"
    target = Target(name="acme-olt1", address="127.0.0.1:161", modules=["if_mib", "acme_gpon"], auth="public_v2",
                    pon_class="B+")
    (family,) = threshold_families(Config(targets=[target]))
    assert {s.labels["olt"] for s in family.samples} == {"acme-olt1"}  # an OLT, as its pack says


def test_provisioning_asks_the_pack_and_fails_loudly_without_a_driver(acme: vendors.Pack) -> None:
    assert OltSnmp("acme-olt1", "127.0.0.1:161", "acme", "public_v2", "B+").module() == "acme_gpon"
    config = Config(provisioning={"credentials": {"olt_admin": {"username": "u", "password": "p"}}})
    provisioner = Provisioner(create_engine("sqlite://"), config, actor="test")
    olt = OltView("acme-olt1", "acme", "127.0.0.1:161", "public_v2", "B+", ("if_mib", "acme_gpon"),
                  "127.0.0.1:22", "olt_admin")
    target = provisioner.cli_target(olt)
    assert target.platform == "acme_olt"  # the pack's platform, not huawei_olt or zte_c300
    with pytest.raises(KeyError, match="no provisioning driver for platform 'acme_olt'"):
        driver_for(target)


def test_a_vendor_without_a_pack_is_refused_everywhere() -> None:
    with pytest.raises(ConfigError, match="vendor pack 'acme'"):
        OltSnmp("x", "127.0.0.1:161", "acme", "public_v2", "B+").module()
    config = Config(provisioning={"credentials": {"olt_admin": {"username": "u", "password": "p"}}})
    olt = OltView("x", "acme", "127.0.0.1:161", "public_v2", "B+", (), "127.0.0.1:22", "olt_admin")
    with pytest.raises(ProvisioningError, match="no OLT vendor pack 'acme'"):
        Provisioner(create_engine("sqlite://"), config, actor="test").cli_target(olt)
    with pytest.raises(ValueError, match="the OLT vendor packs"):
        OltRow.model_validate({"name": "x", "district": "chiyoda", "vendor": "acme", "model": "m",
                               "address": "127.0.0.1:161", "pon_class": "B+", "auth": "public_v2",
                               "modules": ["if_mib"]})


def test_the_simulator_refuses_a_vendor_it_has_no_profile_of(acme: vendors.Pack,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=NO_PROFILE) as err:
        olt_profile("acme")
    assert "simulator/vendors.py" in str(err.value)  # where to add it
    with pytest.raises(ConfigError, match=NO_PROFILE):
        OltState("acme-olt1", "acme", ["0/1/1"])
    with pytest.raises(ConfigError, match=NO_PROFILE):
        olt_shell_class("acme")
    town = generate_town(onus=120, districts=specs.DEFAULT_DISTRICTS[3:], olts=specs.DEFAULT_OLTS[4:])
    with pytest.raises(ConfigError, match=NO_PROFILE):
        olt_records(dataclasses.replace(town.olts[0], vendor="acme"))
    monkeypatch.setitem(specs.MODELS, "OLT-9", dataclasses.replace(specs.MODELS["C320"], vendor="acme"))
    with pytest.raises(ConfigError, match=NO_PROFILE):
        generate_town(onus=120, districts=specs.DEFAULT_DISTRICTS[3:],
                      olts=[specs.OltSpec("geihoku-olt1", "geihoku", "OLT-9", "C+", "public_v2")])


def test_a_profile_takes_the_vendors_facts_from_its_pack(acme: vendors.Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a profile (here ZTE's layout under acme's name), the ONUs' serials and ids are the pack's."""
    monkeypatch.setitem(OLT_PROFILES, "acme", dataclasses.replace(OLT_PROFILES["zte"], vendor="acme"))
    monkeypatch.setitem(specs.MODELS, "OLT-9", dataclasses.replace(specs.MODELS["C320"], vendor="acme"))
    town = generate_town(onus=120, districts=specs.DEFAULT_DISTRICTS[3:],
                         olts=[specs.OltSpec("geihoku-olt1", "geihoku", "OLT-9", "C+", "public_v2")])
    (olt,) = town.olts
    assert olt.modules == ["if_mib", "acme_gpon"]
    onus = list(olt.onus())
    assert onus and all(u.serial.startswith("ACME") for u in onus)
    assert min(u.onu_id for u in onus) == 3
    state = OltState.from_town_olt(olt)
    assert (state.first_ont_id, state.max_onts_per_port) == (3, 64)
    with pytest.raises(ConfigError, match="names no simulator shell"):
        olt_shell_class("acme")
