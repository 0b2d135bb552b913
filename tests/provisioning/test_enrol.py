"""Household enrolment end to end: real SSH to the simulated OLTs (netmiko), real SNMP from their agents
(snmpsim), the inventory in SQLite. Every failure case checks the OLT holds nothing half-made."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from collectors.snmp.quirks import zte_gpon_pon_index
from ftthnoc.inventory.models import EnrolmentState
from provisioning.enrol import Outcome
from provisioning.verify import OltSnmp, OnuReader, read_onu
from simulator.cli.olt_state import OltState, serial_hex
from simulator.cli.town import provisioning_section
from tests.provisioning.conftest import Env

pytestmark = pytest.mark.usefixtures("clean_faults")


def _left_on_olt(state: OltState, serial: str, port: str, ont_id: int | None) -> list[object]:
    """Anything of this enrolment still on the OLT: its ONT, or service ports at its id."""
    left: list[object] = []
    ont = state.find_serial(serial)
    if ont is not None:
        left.append(ont)
    if ont_id is not None:
        left.extend(state.services_of(port, ont_id))
        left.extend(state.onu_config(port, ont_id))  # ZTE's pon-onu-mng block
    return left


def _assert_failed_clean(env: Env, out: Outcome, code: str, serial: str, port: str) -> None:
    assert out.state == EnrolmentState.FAILED, out.message
    assert _left_on_olt(env.state(out.olt or env.olt()), serial, port, out.ont_id) == []
    assert env.status(code) == "installed"
    assert env.onu_row(serial) is None  # the id's reservation is released
    runs = env.runs(code)
    assert runs[-1].state == EnrolmentState.FAILED and runs[-1].error


# ---------------------------------------------------------------------------------------------- success


def test_a_full_enrolment_ends_active_after_the_snmp_check(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt, rx=-19.37)
    out = env.provisioner().enrol(code, serial)

    assert out.state == EnrolmentState.DONE, out.message
    assert (out.olt, out.pon_port) == (olt, port)
    assert out.rx_dbm == pytest.approx(-19.37, abs=0.005)
    assert env.status(code) == "active"
    state = env.state(olt)
    ont = state.find_serial(serial)
    assert ont is not None and (ont.pon_port, ont.ont_id) == (port, out.ont_id) and ont.description == code
    assert [(s.vlan, s.user_vlan) for s in state.services_of(port, ont.ont_id)] == [(100, 100)]
    assert state.saved
    row = env.onu_row(serial)
    assert row is not None and row.onu_id == out.ont_id
    # an independent SNMP read sees the ONU up with the plugged ONU's light
    model = next(o for o in env.town.olts if o.name == olt)
    reading = read_onu(env.config, OltSnmp(olt, model.address, "huawei", model.auth, model.pon_class), port,
                       out.ont_id or 0)
    assert reading.up is True and reading.rx_dbm == pytest.approx(-19.37, abs=0.005)
    # audit: who, what was sent and answered, outcome
    (entry,) = env.audit(code)
    assert entry.actor == "support-test" and entry.action == "enrol" and entry.outcome == "ok"
    sent = [e["command"] for e in entry.detail["transcript"]]
    assert any(c.startswith("ont add ") and serial_hex(serial) in c for c in sent)
    assert any(c.startswith("service-port vlan 100 gpon " + port) for c in sent)
    assert all(e["answer"] is not None for e in entry.detail["transcript"])
    assert env.runs(code)[-1].state == EnrolmentState.DONE


def test_a_zte_olt_enrols_with_its_own_dialogue(env: Env) -> None:
    olt = env.olt("zte")
    code, serial, port = env.install(olt, rx=-21.0)
    out = env.provisioner().enrol(code, serial)
    assert out.state == EnrolmentState.DONE, out.message
    assert out.rx_dbm == pytest.approx(-21.0, abs=0.01)
    ont = env.state(olt).find_serial(serial)
    assert ont is not None and ont.ont_id == out.ont_id and ont.ont_id >= 1  # ZTE counts ONUs from 1
    sent = [e.command for e in out.transcript.exchanges]
    assert any(c.startswith(f"onu {out.ont_id} type ZTE-F660 sn {serial.replace('-', '')}") for c in sent)
    # the home gets service: the ONU's management block is sent last, and the OLT holds it (and saved it)
    mng = sent.index(f"pon-onu-mng gpon-onu_{port}:{out.ont_id}")
    assert sent[mng + 1 : mng + 4] == ["service 1 gemport 1 vlan 100", "vlan port eth_0/1 mode tag vlan 100", "exit"]
    lines = ("service 1 gemport 1 vlan 100", "vlan port eth_0/1 mode tag vlan 100")
    assert env.state(olt).onu_config(port, out.ont_id or 0) == lines
    assert (port, out.ont_id, lines) in env.state(olt).startup.onu_configs
    # the SNMP check GETs the new ONU's Rx on the optics table's real index {pon}.{onu}.1
    model = next(o for o in env.town.olts if o.name == olt)
    snmp = OltSnmp(olt, model.address, "zte", model.auth, model.pon_class)
    reader = OnuReader(env.config, snmp, port, out.ont_id or 0)
    pon = zte_gpon_pon_index(port)
    assert [m.name for m in reader.wanted] == ["ftth_onu_up", "ftth_onu_rx_power_dbm"]
    assert reader.instances == [(pon, out.ont_id), (pon, out.ont_id, 1)]
    assert read_onu(env.config, snmp, port, out.ont_id or 0).rx_dbm == pytest.approx(-21.0, abs=0.01)


def test_a_zte_line_below_minus_30_dbm_is_read_and_judged_not_lost(env: Env) -> None:
    """The OLT sends -31.2 dBm as an unsigned 16-bit value: the check reads it (the old layout found no
    reading at all), finds it below the class's critical level, and the undo leaves nothing behind,
    the management block included."""
    olt = env.olt("zte")
    code, serial, port = env.install(olt, rx=-31.2)
    out = env.provisioner().enrol(code, serial)
    assert out.rx_dbm == pytest.approx(-31.2, abs=0.01)
    assert "below the" in out.message and "-31.20 dBm" in out.message, out.message
    _assert_failed_clean(env, out, code, serial, port)


def test_a_dry_run_prints_the_exact_commands_and_changes_nothing(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    state = env.state(olt)
    before = (state.changes, len(state.onts()))
    out = env.provisioner().enrol(code, serial, dry_run=True)

    assert out.state == EnrolmentState.NOOP, out.message
    frame_slot, _, p = port.rpartition("/")
    ont_id = out.ont_id
    assert ont_id is not None
    assert out.planned_commands() == [
        f"interface gpon {frame_slot}",
        f'ont add {p} {ont_id} sn-auth {serial_hex(serial)} omci ont-lineprofile-id 10 ont-srvprofile-id 10 '
        f'desc "{code}"',
        "quit",
        f"service-port vlan 100 gpon {port} ont {ont_id} gemport 1 multi-service user-vlan 100 "
        "tag-transform translate",
        "save",
    ]
    assert (state.changes, len(state.onts())) == before
    assert [a.serial for a in state.autofind()].count(serial) == 1
    assert env.runs(code) == [] and env.audit(code) == [] and env.onu_row(serial) is None
    assert env.status(code) == "installed"


def test_a_second_run_changes_nothing(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, _port = env.install(olt)
    first = env.provisioner().enrol(code, serial)
    assert first.state == EnrolmentState.DONE, first.message
    state, server = env.state(olt), env.cli.servers[olt]
    changes, seen = state.changes, len(server.commands)

    again = env.provisioner().enrol(code, serial)
    assert again.state == EnrolmentState.NOOP, again.message
    assert state.changes == changes
    new = server.commands[seen:]
    assert new and all(c.startswith(("display", "enable", "config", "undo smart", "scroll", "infoswitch",
                                      "quit", "return", "mmi-mode", "")) for c in new), new
    assert not any(c.startswith(("ont ", "service-port", "undo service-port", "save")) for c in new)
    assert env.status(code) == "active"
    assert [r.state for r in env.runs(code)] == [EnrolmentState.DONE, EnrolmentState.NOOP]


# ---------------------------------------------------------------------------------------------- refusals


def test_sn_already_exists_fails_with_the_olts_words_and_leaves_the_other_ont(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    state = env.state(olt)
    other_port = next(p for p in state.pon_ports if p != port)
    other_id = max([o.ont_id for o in state.onts(other_port)], default=-1) + 1
    state.add_ont(other_port, other_id, serial, 10, 10, "HH-STALE")  # configured by hand long ago
    try:
        out = env.provisioner().enrol(code, serial)
        assert out.state == EnrolmentState.FAILED
        assert "SN already exists" in out.message
        assert "SN already exists" in (env.runs(code)[-1].error or "")
        stale = state.find_serial(serial)
        assert stale is not None and (stale.pon_port, stale.ont_id) == (other_port, other_id)  # not ours: kept
        assert state.services_of(port, out.ont_id or 0) == []
        assert env.status(code) == "installed" and env.onu_row(serial) is None
        assert (env.audit(code)[-1].outcome or "").startswith("failed")
    finally:
        state.delete_ont(other_port, other_id)


def test_no_autofind_entry_fails_before_any_change(env: Env) -> None:
    olt = env.olt("huawei")
    code, _serial, _port = env.install(olt)
    state = env.state(olt)
    before = state.changes
    out = env.provisioner().enrol(code, "HWTC-0BADF00D")
    assert out.state == EnrolmentState.FAILED
    assert "not in the autofind list" in out.message
    assert state.changes == before
    assert env.runs(code)[-1].state == EnrolmentState.FAILED


def test_a_full_pon_port_fails_before_any_change(env: Env) -> None:
    olt = env.olt("huawei")
    state = env.state(olt)
    port = state.pon_ports[-1]
    code, serial, _ = env.install(olt, port=port)
    free = [i for i in range(state.first_ont_id, state.first_ont_id + state.max_onts_per_port)
            if state.ont(port, i) is None]
    for i in free:
        state.add_ont(port, i, f"HWTC-F{i:07X}", 10, 10, "filler")
    before = state.changes
    try:
        out = env.provisioner().enrol(code, serial)
        assert out.state == EnrolmentState.FAILED
        assert "full" in out.message and str(state.max_onts_per_port) in out.message
        assert state.changes == before and state.find_serial(serial) is None
    finally:
        for i in free:
            state.delete_ont(port, i)


def test_wrong_credentials_fail_clearly_and_change_nothing(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, _ = env.install(olt)
    section = provisioning_section()
    section["credentials"]["olt_admin"]["password"] = "wrong"  # type: ignore[index]
    state = env.state(olt)
    before, refused = state.changes, env.cli.servers[olt].failed_logins
    out = env.provisioner(credentials=section["credentials"]).enrol(code, serial)
    assert out.state == EnrolmentState.FAILED
    assert "authentication" in out.message.lower() or "credential" in out.message.lower()
    assert "wrong" not in out.message  # never the password
    assert env.cli.servers[olt].failed_logins > refused
    assert state.changes == before and env.status(code) == "installed"


# ---------------------------------------------------------------------------------------------- undo


@pytest.mark.parametrize(("pattern", "when"), [(r"^service-port vlan", "before"), (r"^ont add", "after")])
def test_a_session_dropped_mid_change_is_undone_on_reconnect(env: Env, pattern: str, when: str) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    env.cli.servers[olt].faults.drop(pattern, when=when)  # type: ignore[arg-type]
    sessions = env.cli.servers[olt].sessions_opened
    out = env.provisioner().enrol(code, serial)

    assert "session" in out.message.lower() or "connection" in out.message.lower(), out.message
    _assert_failed_clean(env, out, code, serial, port)
    assert env.cli.servers[olt].sessions_opened >= sessions + 2  # the undo ran on a new session
    assert serial in [a.serial for a in env.state(olt).autofind()]  # back where it was: can be enrolled again
    redo = env.provisioner().enrol(code, serial)
    assert redo.state == EnrolmentState.DONE, redo.message


def test_an_undo_that_cannot_reach_the_olt_marks_attention_and_the_next_run_cleans_up(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    faults = env.cli.servers[olt].faults
    faults.drop(r"^service-port vlan", when="before")
    p = env.provisioner(reconnect_attempts=2, reconnect_wait_seconds=0, cli_timeout_seconds=3)

    def progress(step: str, _message: str) -> None:
        if step == "undo":  # the OLT goes on dropping every session the undo opens
            faults.drop(r".", when="before", times=50)

    p.progress = progress
    out = p.enrol(code, serial)
    assert out.state == EnrolmentState.ATTENTION, out.message
    assert "may still be configured" in out.message
    assert env.runs(code)[-1].state == EnrolmentState.ATTENTION
    assert env.onu_row(serial) is not None  # the id stays reserved while the OLT may hold it
    assert env.state(olt).find_serial(serial) is not None  # the half-made change is still there

    faults.clear()
    again = env.provisioner().enrol(code, serial)
    assert again.state == EnrolmentState.DONE, again.message
    ont = env.state(olt).find_serial(serial)
    assert ont is not None and ont.ont_id == again.ont_id
    assert len(env.state(olt).services_of(port, ont.ont_id)) == 1
    assert [r.state for r in env.runs(code)] == [EnrolmentState.FAILED, EnrolmentState.DONE]


def test_an_onu_with_light_below_the_critical_level_fails_and_is_removed(env: Env) -> None:
    olt = env.olt("huawei")  # class B+: critical below -27 dBm
    code, serial, port = env.install(olt, rx=-29.4)
    out = env.provisioner().enrol(code, serial)
    assert "-29.40 dBm is below the B+ critical level -27.0 dBm" in out.message, out.message
    assert out.rx_dbm == pytest.approx(-29.4, abs=0.005)
    _assert_failed_clean(env, out, code, serial, port)


# ---------------------------------------------------------------------------------------------- concurrency


def test_twenty_concurrent_enrolments_on_one_port_get_twenty_distinct_ids(env: Env) -> None:
    olt = env.olt("huawei")
    port = env.state(olt).pon_ports[5]
    homes = [env.install(olt, port=port) for _ in range(20)]
    before = {o.ont_id for o in env.state(olt).onts(port)}

    def enrol(home: tuple[str, str, str]) -> Outcome:
        return env.provisioner().enrol(home[0], home[1])

    with ThreadPoolExecutor(max_workers=20) as pool:
        outs = list(pool.map(enrol, homes))
    assert [o.state for o in outs] == [EnrolmentState.DONE] * 20, [o.message for o in outs if not o.ok]
    ids = [o.ont_id for o in outs]
    assert len(set(ids)) == 20 and not (set(ids) & before)  # type: ignore[operator]
    on_olt = {o.serial: o.ont_id for o in env.state(olt).onts(port)}
    assert {serial: on_olt[serial] for _c, serial, _p in homes} == {o.serial: o.ont_id for o in outs}
    assert all(env.status(code) == "active" for code, _s, _p in homes)


# ---------------------------------------------------------------------------------------------- line changes


def test_suspend_resume_and_cancel_follow_the_line(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    p = env.provisioner()
    assert p.enrol(code, serial).state == EnrolmentState.DONE
    state = env.state(olt)

    out = p.suspend(code)
    assert out.state == EnrolmentState.DONE, out.message
    ont = state.find_serial(serial)
    assert ont is not None and not ont.active and env.status(code) == "suspended"
    assert p.suspend(code).state == EnrolmentState.NOOP
    env.cli.wait_published()
    model = next(o for o in env.town.olts if o.name == olt)
    snmp = OltSnmp(olt, model.address, "huawei", model.auth, model.pon_class)
    assert read_onu(env.config, snmp, port, ont.ont_id).up is False

    assert p.resume(code).state == EnrolmentState.DONE
    ont = state.find_serial(serial)
    assert ont is not None and ont.active and env.status(code) == "active"

    out = p.cancel(code)
    assert out.state == EnrolmentState.DONE, out.message
    assert _left_on_olt(state, serial, port, ont.ont_id) == []
    assert env.status(code) == "cancelled" and env.onu_row(serial) is None
    assert [a.action for a in env.audit(code)] == ["enrol", "suspend", "resume", "cancel"]


def test_the_check_gets_only_the_new_onus_columns(env: Env) -> None:
    from collectors.snmp.module import get_module
    from collectors.snmp.quirks import (
        huawei_gpon_fsp,
        huawei_gpon_ifindex,
        zte_gpon_pon_index,
        zte_gpon_port,
        zte_v2_gpon_pon_index,
    )
    from provisioning.verify import ONU_METRICS, _instances

    assert huawei_gpon_fsp(huawei_gpon_ifindex("0/1/3")) == "0/1/3" and huawei_gpon_ifindex("0/0/0") == 4194304000
    assert zte_gpon_port(zte_gpon_pon_index("1/1/1")) == "1/1/1" and zte_gpon_pon_index("1/1/1") == 0x10010100
    hw, zte, zte2 = huawei_gpon_ifindex("0/1/3"), zte_gpon_pon_index("1/2/4"), zte_v2_gpon_pon_index("1/2/4")
    # (up, rx) instances: ZTE's optics table has the ONU's ANI index as a third part
    for module_name, port, want in (("huawei_gpon", "0/1/3", [(hw, 7), (hw, 7)]),
                                    ("zte_gpon", "1/2/4", [(zte, 7), (zte, 7, 1)]),
                                    ("zte_gpon_v2", "1/2/4", [(zte2, 7), (zte2, 7, 1)])):
        module = get_module(module_name)
        assert _instances(module, [m for m in module.metrics if m.name in ONU_METRICS], port, 7) == want
    # the GET reads what a full poll of the OLT reads, for an ONU the town already had
    for vendor in ("huawei", "zte"):
        model = next(o for o in env.town.olts if o.vendor == vendor)
        onu = next(u for u in model.onus() if u.online)
        snmp = OltSnmp(model.name, model.address, vendor, model.auth, model.pon_class)
        reading = read_onu(env.config, snmp, onu.pon_port, onu.onu_id)
        assert reading.up is True and reading.rx_dbm == pytest.approx(onu.rx_dbm, abs=0.01)
        down = next((u for u in model.onus() if not u.online), None)
        if down is not None:
            assert read_onu(env.config, snmp, down.pon_port, down.onu_id).up is False
        assert read_onu(env.config, snmp, onu.pon_port, 200).up is None  # no such ONU


# ------------------------------------------------------------------------------- undo and saved configuration

#: the save command of either OLT (Huawei ``save``, ZTE ``write``)
SAVE = r"^(save|write)$"


def _left_in_startup(state: OltState, serial: str, port: str, ont_id: int | None) -> list[object]:
    """Anything of this enrolment in the OLT's saved configuration (what a restart would bring back)."""
    left: list[object] = []
    ont = state.startup.find_serial(serial)
    if ont is not None:
        left.append(ont)
    if ont_id is not None:
        left.extend(state.startup.services_of(port, ont_id))
    return left


def _weak(env: Env, olt: str) -> float:
    """An Rx level below the critical level of the OLT's PON class: the SNMP check fails after the save."""
    model = next(o for o in env.town.olts if o.name == olt)
    return -29.4 if model.pon_class == "B+" else -31.4


def _undo_starts(env: Env, olt: str, *, first: str, then_dark: bool = False) -> Callable[[str, str], None]:
    """A progress callback arming the undo's own fault: its session drops before its save is applied
    (and, ``then_dark``, the OLT is gone after that). For ``first == "service"`` another session saves
    the OLT just before, as a concurrent enrolment's save would: the half-made ONT reaches the startup
    configuration although this run never saved."""
    state, faults = env.state(olt), env.cli.servers[olt].faults

    def progress(step: str, _message: str) -> None:
        if step == "undo":
            if first == "service":
                state.save()
            faults.drop(SAVE, when="before", then_dark=then_dark)

    return progress


def _first_fault(env: Env, olt: str, first: str) -> float:
    """Arm the run's first fault (after ``ont add``); the Rx level to install the ONU with."""
    faults = env.cli.servers[olt].faults
    if first == "save":  # the save reaches the startup configuration, its answer never arrives
        faults.drop(SAVE, when="after")
    elif first == "service":  # the session drops before the service port: an ONT without one
        faults.drop(r"^service-port ", when="before")
    elif first == "check":  # saved, then the SNMP check fails on the same session
        return _weak(env, olt)
    return -20.5


@pytest.mark.parametrize("first", ["save", "service", "check"])
@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_an_undo_whose_save_is_lost_saves_on_the_next_session(env: Env, vendor: str, first: str) -> None:
    olt = env.olt(vendor)
    rx = _first_fault(env, olt, first)
    code, serial, port = env.install(olt, rx=rx)
    state, server = env.state(olt), env.cli.servers[olt]
    sessions, saves = server.sessions_opened, state.saves
    p = env.provisioner()
    p.progress = _undo_starts(env, olt, first=first)
    out = p.enrol(code, serial)

    assert "nothing is left" in out.message, out.message
    _assert_failed_clean(env, out, code, serial, port)
    assert _left_in_startup(state, serial, port, out.ont_id) == []  # a restart brings nothing back
    assert state.saved  # the removal itself was saved
    assert state.saves > saves + (first != "service")  # the run's save (if any), then the undo's
    assert server.sessions_opened >= sessions + 2  # the undo's save went out on a new session
    if first != "check":  # (the weak ONU stays weak)
        redo = env.provisioner().enrol(code, serial)
        assert redo.state == EnrolmentState.DONE, redo.message


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_a_saved_enrolment_whose_check_fails_is_removed_and_saved_again(env: Env, vendor: str) -> None:
    olt = env.olt(vendor)
    code, serial, port = env.install(olt, rx=_weak(env, olt))
    state = env.state(olt)
    saved: list[bool] = []

    def progress(step: str, _message: str) -> None:
        if step == "undo":
            saved.append(state.startup.find_serial(serial) is not None)

    p = env.provisioner()
    p.progress = progress
    out = p.enrol(code, serial)

    assert "critical level" in out.message, out.message
    assert saved == [True]  # the first session had saved the ONT before the check failed
    _assert_failed_clean(env, out, code, serial, port)
    assert _left_in_startup(state, serial, port, out.ont_id) == [] and state.saved


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_an_undo_that_cannot_save_ends_attention_and_the_next_run_saves(env: Env, vendor: str) -> None:
    olt = env.olt(vendor)
    _first_fault(env, olt, "save")
    code, serial, port = env.install(olt)
    state, faults = env.state(olt), env.cli.servers[olt].faults
    p = env.provisioner(reconnect_attempts=2, reconnect_wait_seconds=0, cli_timeout_seconds=3)
    p.progress = _undo_starts(env, olt, first="save", then_dark=True)
    out = p.enrol(code, serial)

    assert out.state == EnrolmentState.ATTENTION, out.message
    assert f"ONT {out.ont_id}" in out.message and "saved configuration may still hold it" in out.message
    assert "run the enrolment again" in out.message.lower()
    assert env.runs(code)[-1].state == EnrolmentState.ATTENTION
    row = env.onu_row(serial)
    assert row is not None and row.onu_id == out.ont_id  # the id stays reserved
    assert _left_on_olt(state, serial, port, out.ont_id) == []  # removed from the running configuration ...
    assert _left_in_startup(state, serial, port, out.ont_id) != []  # ... but a restart would bring it back
    assert env.status(code) == "installed"

    # the OLT is back; the next run for the household cleans up first, and saves, before anything else
    faults.clear()
    state.unplug(serial)  # (this run then stops at autofind, so that only the clean-up touches the OLT)
    again = env.provisioner().enrol(code, serial)
    assert again.state == EnrolmentState.FAILED and "not in the autofind list" in again.message, again.message
    assert _left_in_startup(state, serial, port, out.ont_id) == [] and state.saved
    assert env.onu_row(serial) is None  # the reservation is released
    runs = env.runs(code)
    assert runs[0].state == EnrolmentState.FAILED and "cleaned up" in (runs[0].error or "")


def test_a_cancel_whose_save_is_lost_saves_when_run_again(env: Env) -> None:
    olt = env.olt("huawei")
    code, serial, port = env.install(olt)
    p = env.provisioner()
    enrolled = p.enrol(code, serial)
    assert enrolled.state == EnrolmentState.DONE, enrolled.message
    state = env.state(olt)
    env.cli.servers[olt].faults.drop(SAVE, when="before")  # removed from the running configuration only
    out = p.cancel(code)
    assert out.state == EnrolmentState.ATTENTION and "run it again" in out.message, out.message
    assert _left_on_olt(state, serial, port, enrolled.ont_id) == []
    assert _left_in_startup(state, serial, port, enrolled.ont_id) != []

    again = p.cancel(code)  # nothing left to remove: the save is what finishes it
    assert again.state == EnrolmentState.DONE, again.message
    assert _left_in_startup(state, serial, port, enrolled.ont_id) == [] and state.saved
    assert env.status(code) == "cancelled" and env.onu_row(serial) is None
