"""How the simulator draws and serves each OLT vendor: one ``OltProfile`` per vendor pack it simulates.

The facts a vendor pack holds (``ftthnoc/vendors/<name>/pack.yaml``: the ONU serial prefix, the first
and last ONT id, the ONU module, the SSH shell) are read from the pack, never repeated here. A profile
holds only what the demo needs beyond them: how PON ports are named and indexed, how fine the optics
are and how weak a weak line gets, which columns the vendor's ONU tables carry (times, model and
firmware, a "deactivated" cause), which ``snmprec`` writer serves its tables, and what its command
line answers when it refuses.

An OLT of a vendor without a profile is an error that says what to add, never some other vendor's
behaviour: adding a vendor to the simulator is one ``OltProfile`` here, one writer in
``simulator/snmprec.py`` (``OLT_WRITERS``) and one shell in ``simulator/cli`` (``SHELLS``, named by the
pack's ``simulator_shell``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ftthnoc import vendors
from ftthnoc.errors import ConfigError
from ftthnoc.vendors import OltFacts
from simulator.devices import DownCause
from simulator.specs import HUAWEI_ONT_MODELS

#: (frame, slot, port, F/S/P) of one PON port
PortPlace = tuple[int, int, int, str]


@dataclass(frozen=True, slots=True)
class OltProfile:
    """What the simulator needs to know of one OLT platform beyond its pack's facts."""

    #: the vendor pack's name (the inventory's ``vendor``)
    vendor: str
    # ---- PON ports: F/S/P is ``{frame}/{slot}/{first_port + n}``
    frame: int
    first_port: int
    #: (ifIndex, ONU-table index) of the GPON port at (frame, slot, port)
    pon_indexes: Callable[[int, int, int], tuple[int, int]]
    #: ifIndex of the uplink at (slot, port)
    uplink_index: Callable[[int, int], int]
    #: the GPON port's ifName and ifDescr: format strings of ``fsp`` and the chassis' ``gpon_if_descr``
    pon_if_name: str
    pon_if_descr: str
    pon_mtu: int
    #: the uplink's ifName (of ``slot``, ``port``) and ifDescr (of ``name``, the chassis ``model``)
    uplink_name: str
    uplink_descr: str
    # ---- the ONU tables
    #: resolution of the ONU Rx and Tx columns (decoding the raw value gives the model's value back)
    optics_step_db: float
    #: the range a weak ONU's Rx is drawn from
    weak_rx_dbm: tuple[float, float]
    #: the last-down causes of ONUs that went down before (and came back), with their weights
    history_causes: tuple[DownCause, ...]
    history_weights: tuple[int, ...]
    #: the tables carry the last up / down / dying-gasp times and the ONU's model and firmware
    reports_history: bool
    #: the tables name an ONU down on purpose (deactivated, optics shut): some of the town's are
    reports_deactivated: bool
    #: (model, firmware) an ONU reports, picked by its serial (``reports_history``)
    ont_models: tuple[tuple[str, str], ...]
    #: the ``snmprec.OLT_WRITERS`` key that writes a PON port's vendor tables
    snmprec: str
    # ---- the command line (``simulator/cli``)
    #: the equipment an installer's newly plugged ONU reports
    plugged_equipment: str
    #: a newly plugged ONU reports its Tx and temperature (else None)
    plugged_optics: bool
    #: the ONU type a configured ONT carries (ZTE's ``onu N type T sn S``; "" where the CLI takes none)
    onu_type: str
    #: the ONU-side configuration a home with service has on ``vlan`` (ZTE's ``pon-onu-mng``); None: none
    onu_service_lines: Callable[[int], tuple[str, ...]] | None
    #: the device's own words when it refuses, by ``OltState`` reason
    refusals: Mapping[str, str]

    @property
    def facts(self) -> OltFacts:
        """The vendor pack's OLT facts."""
        return vendors.olt(self.vendor)

    @property
    def serial_prefix(self) -> str:
        """The vendor ID the simulated ONUs' serials start with: the pack's first."""
        return self.facts.serial_prefixes.value[0]

    @property
    def first_ont_id(self) -> int:
        return self.facts.first_ont_id.value

    @property
    def ont_ids(self) -> int:
        """How many ONT ids a PON port offers."""
        facts = self.facts
        return facts.last_ont_id.value - facts.first_ont_id.value + 1

    def port(self, slot: int, n: int) -> PortPlace:
        """The ``n``-th PON port (from 0) of the board in ``slot``."""
        port = self.first_port + n
        return self.frame, slot, port, f"{self.frame}/{slot}/{port}"

    def ont_model(self, serial: str) -> tuple[str, str]:
        """The ONU's (model, firmware), fixed by its serial (no random stream moves); empty if unreported."""
        if not self.reports_history or not self.ont_models:
            return "", ""
        return self.ont_models[zlib.crc32(serial.encode("ascii")) % len(self.ont_models)]

    def refusal(self, reason: str) -> str:
        try:
            return self.refusals[reason]
        except KeyError:
            raise ConfigError(f"the simulator's profile of {self.vendor!r} has no refusal {reason!r}") from None


def zte_onu_service_lines(vlan: int, gemport: int = 1) -> tuple[str, ...]:
    """A ZTE ONU's management block for one bridged home on ``vlan`` (DOMAIN.md §3, onmt-zte-c300)."""
    return (f"service 1 gemport {gemport} vlan {vlan}", f"vlan port eth_0/1 mode tag vlan {vlan}")


def _huawei_pon_indexes(frame: int, slot: int, port: int) -> tuple[int, int]:
    idx = 4194304000 + frame * 2**19 + slot * 8192 + port * 256
    return idx, idx


def _zte_pon_indexes(frame: int, slot: int, port: int) -> tuple[int, int]:
    # ifIndex counts slots and ports from 0 (gpon_1/1/1 = 268435456), the ONU tables from 1
    # (gpon-olt_1/1/1 = 268501248), as in the C320 peer walk.
    return 0x10000000 + (slot - 1) * 65536 + (port - 1) * 256, 0x10000000 + slot * 65536 + port * 256


def _huawei_uplink_index(slot: int, port: int) -> int:
    return 0x0E000000 + slot * 8192 + port * 64  # ethernet0/7/0 = 234938368 in the smartax walk


def _zte_uplink_index(slot: int, port: int) -> int:
    return 0x10000000 + (slot - 1) * 65536 + (port - 1) * 256


_HISTORY_CAUSES: tuple[DownCause, ...] = ("dying_gasp", "los", "losi", "lofi")
_HISTORY_WEIGHTS = (70, 15, 10, 5)
#: Huawei's tables also name the ONT taken down on purpose: a reset from the button or the ONT's own
#: software, a deactivation, a reset from the OLT (drawn with one random number, as the list above)
_HUAWEI_HISTORY_CAUSES: tuple[DownCause, ...] = (
    "dying_gasp", "los", "losi", "lofi", "reset_by_button", "reset_by_software", "deactivated", "reset",
)  # fmt: skip
_HUAWEI_HISTORY_WEIGHTS = (60, 12, 8, 4, 6, 4, 3, 3)

HUAWEI_REFUSALS: Mapping[str, str] = {
    "no_port": "Failure: The port does not exist",
    "sn_exists": "Failure: SN already exists",
    "id_exists": "Failure: The ONT ID has already existed",
    "port_full": "Failure: The number of ONTs on the port reaches the maximum",
    "bad_id": "Failure: The ONT ID is out of range",
    "no_ont": "Failure: The ONT does not exist",
    "has_services": "Failure: This configured object has some service virtual ports",
    "no_service": "Failure: The service virtual port does not exist",
    "service_exists": "Failure: The service virtual port has already existed",
}
#: this project's choice, modelled on C300 V2.x answers (``%Code <n>-GPONSRV : ...``): unverified
ZTE_REFUSALS: Mapping[str, str] = {
    "no_port": "%Code 32300-GPONSRV : The PON port does not exist.",
    "sn_exists": "%Code 32301-GPONSRV : SN already exists.",
    "id_exists": "%Code 32302-GPONSRV : ONU already exists.",
    "port_full": "%Code 32303-GPONSRV : The number of ONUs on the PON port reaches the maximum.",
    "bad_id": "%Code 32304-GPONSRV : Invalid ONU ID.",
    "no_ont": "%Code 32305-GPONSRV : ONU does not exist.",
    "has_services": "%Code 32306-GPONSRV : The ONU has service ports configured.",
    "no_service": "%Code 32307-GPONSRV : No such service-port.",
    "service_exists": "%Code 32308-GPONSRV : Service-port already exists.",
}

#: the OLT vendors the simulator can build and serve, by vendor pack name
OLT_PROFILES: dict[str, OltProfile] = {
    "huawei": OltProfile(
        vendor="huawei",
        frame=0,
        first_port=0,
        pon_indexes=_huawei_pon_indexes,
        uplink_index=_huawei_uplink_index,
        pon_if_name="GPON {fsp}",
        pon_if_descr="{gpon_if_descr}",
        pon_mtu=2000,
        uplink_name="ethernet0/{slot}/{port}",
        uplink_descr="Huawei-{model}-ETHERNET",
        optics_step_db=0.01,
        weak_rx_dbm=(-29.5, -27.1),
        history_causes=_HUAWEI_HISTORY_CAUSES,
        history_weights=_HUAWEI_HISTORY_WEIGHTS,
        reports_history=True,
        reports_deactivated=True,
        ont_models=HUAWEI_ONT_MODELS,
        snmprec="hw_xpon",
        plugged_equipment="EG8145V5",
        plugged_optics=True,
        onu_type="",
        onu_service_lines=None,
        refusals=HUAWEI_REFUSALS,
    ),
    "zte": OltProfile(
        vendor="zte",
        frame=1,
        first_port=1,
        pon_indexes=_zte_pon_indexes,
        uplink_index=_zte_uplink_index,
        pon_if_name="gpon_{fsp}",
        pon_if_descr="gpon_{fsp}",
        pon_mtu=1500,
        uplink_name="xgei_1/{slot}/{port}",
        uplink_descr="{name}",
        optics_step_db=0.002,
        # ZTE sends a level below -30 dBm as an unsigned 16-bit value (32768-65534): some of its weak
        # lines are that weak, so the demo shows them (and a poller that drops them would be caught)
        weak_rx_dbm=(-33.5, -27.1),
        history_causes=_HISTORY_CAUSES,
        history_weights=_HISTORY_WEIGHTS,
        reports_history=False,
        reports_deactivated=False,
        ont_models=(),
        snmprec="zxgpon",
        plugged_equipment="ZTE-F660",
        plugged_optics=False,
        onu_type="ZTE-F660",
        onu_service_lines=zte_onu_service_lines,
        refusals=ZTE_REFUSALS,
    ),
}


def olt_profile(vendor: str) -> OltProfile:
    """The simulator's profile of an OLT vendor; a ``ConfigError`` that says what to add otherwise."""
    try:
        return OLT_PROFILES[vendor]
    except KeyError:
        raise ConfigError(
            f"the simulator has no profile for OLT vendor {vendor!r}: add an OltProfile for it to OLT_PROFILES "
            f"in simulator/vendors.py (and its tables' writer to OLT_WRITERS in simulator/snmprec.py); "
            f"known: {', '.join(sorted(OLT_PROFILES))}"
        ) from None
