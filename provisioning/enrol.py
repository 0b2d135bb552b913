"""The household workflows: enrol an installed household's ONU, suspend, resume and cancel its line.

Enrolment, as support staff would do it by hand, in one step::

    find the serial in autofind (district's OLTs first) → reserve the lowest free ONT id (database row
    = reservation) → ont add (plan's profiles) → service port (plan's VLAN) → save → SNMP: runs, and
    its Rx power inside the PON class's critical limits → household active

Rules that make it safe:
- Nothing is changed before everything that can be checked without a change was checked (household
  state, plan, credentials, serial in autofind, free id).
- After the first change, any failure (the device's refusal, a lost session, a bad light level) undoes
  exactly what this run added, found by the id and serial it used, never a neighbour's ONT, and saves:
  the run may have saved its ONT already (or another session's save may have), so only a save after
  the removal leaves the startup configuration clean. Then the run is ``failed`` with the device's own
  words and the household stays ``installed``: "nothing is left" means running and saved configuration.
- If the undo itself cannot be finished, removal and save (the device is gone), the run is ``attention``,
  its message says what may be left (in the running configuration, or only in the saved one), and the
  ONU's inventory row stays as the id's reservation; the next run for the household cleans up (and
  saves) first.
- A dry run reads the device as a real run does, and prints the changes it would send.
- Re-running a finished enrolment sends no change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ftthnoc import vendors
from ftthnoc.config import Config, split_host_port
from ftthnoc.errors import ConfigError, InventoryError
from ftthnoc.inventory.models import EnrolmentState, HouseholdStatus, check_transition
from ftthnoc.normalise import normalise_serial
from provisioning import household as inv
from provisioning.config import ProvisioningConfig, provisioning_config
from provisioning.drivers import driver_for
from provisioning.drivers.base import (
    CliTarget,
    DeviceRefused,
    OltDriver,
    OntEntry,
    OntSpec,
    ProvisioningError,
    SessionLost,
    Transcript,
)
from provisioning.verify import OltSnmp, Verdict, wait_for_onu

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (step, message)
Verifier = Callable[[Config, OltSnmp, str, int], Verdict]


@dataclass(slots=True)
class Outcome:
    """What a workflow did, for the CLI, the API's job resource and the tests."""

    household: str
    kind: str
    state: EnrolmentState
    message: str
    serial: str | None = None
    olt: str | None = None
    pon_port: str | None = None
    ont_id: int | None = None
    rx_dbm: float | None = None
    run_id: int | None = None
    dry_run: bool = False
    transcript: Transcript = field(default_factory=Transcript)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state in (EnrolmentState.DONE, EnrolmentState.NOOP)

    def planned_commands(self) -> list[str]:
        """The change commands a dry run would have sent, in order."""
        return [e.command for e in self.transcript.exchanges if not e.sent]


class _Failed(Exception):
    """A step failed; ``reason`` goes to the run's error and the audit outcome."""

    def __init__(self, reason: str, step: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step


class _UndoIncomplete(ProvisioningError):
    """The undo could not be finished; ``removed``: the running configuration holds nothing of the run
    any more, only the save of that removal is missing."""

    def __init__(self, message: str, *, removed: bool) -> None:
        super().__init__(message)
        self.removed = removed


class Provisioner:
    """Runs household workflows against the inventory (``engine``) and the devices it names."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        actor: str,
        progress: Progress | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.settings: ProvisioningConfig = provisioning_config(config)
        self.actor = actor
        self.progress = progress or (lambda _step, _msg: None)
        self.verifier = verifier or self._verify

    # ------------------------------------------------------------------ plumbing
    def _verify(self, config: Config, olt: OltSnmp, pon_port: str, ont_id: int) -> Verdict:
        return wait_for_onu(config, olt, pon_port, ont_id, timeout=self.settings.verify_timeout_seconds,
                            interval=self.settings.verify_interval_seconds)

    def cli_target(self, olt: inv.OltView) -> CliTarget:
        if not olt.cli_address or not olt.cli_auth:
            raise ProvisioningError(f"OLT {olt.name} has no CLI address or credential in the inventory")
        cred = self.settings.credentials.get(olt.cli_auth)
        if cred is None:
            raise ProvisioningError(
                f"OLT {olt.name} names credential {olt.cli_auth!r}, which provisioning.credentials does not define"
            )
        try:
            platform = self.settings.platforms.get(olt.vendor) or vendors.olt(olt.vendor).cli_platform.value
        except ConfigError as exc:
            raise ProvisioningError(f"no provisioning driver for OLT {olt.name}: {exc}") from None
        host, port = split_host_port(olt.cli_address, 22)
        return CliTarget(olt.name, platform, host, port, cred.username, cred.password, cred.secret,
                         self.settings.cli_timeout_seconds)

    def _open(self, olt: inv.OltView, transcript: Transcript, dry_run: bool) -> OltDriver:
        driver = driver_for(self.cli_target(olt), transcript, dry_run=dry_run)
        if not isinstance(driver, OltDriver):
            raise ProvisioningError(f"{driver.platform} is not an OLT driver")
        driver.connect()
        return driver

    @staticmethod
    def _snmp(olt: inv.OltView) -> OltSnmp:
        return OltSnmp(olt.name, olt.address, olt.vendor, olt.auth, olt.pon_class, olt.modules)

    # ------------------------------------------------------------------ enrol
    def enrol(self, code: str, serial: str, *, dry_run: bool = False) -> Outcome:
        t0 = time.perf_counter()
        transcript = Transcript()
        try:
            serial = normalise_serial(serial)
        except ValueError as exc:
            return Outcome(code, "enrol", EnrolmentState.FAILED, str(exc), dry_run=dry_run)
        out = Outcome(code, "enrol", EnrolmentState.RUNNING, "", serial=serial, dry_run=dry_run, transcript=transcript)
        try:
            self._enrol(out, dry_run)
        except ProvisioningError as exc:  # refused before any change: nothing to undo
            out.state, out.message = EnrolmentState.FAILED, str(exc)
            self._finish(out, str(exc))
        out.seconds = time.perf_counter() - t0
        return out

    def _enrol(self, out: Outcome, dry_run: bool) -> None:
        code, serial = out.household, out.serial
        assert serial is not None
        hh = inv.household(self.engine, code)
        known = inv.onu_by_serial(self.engine, serial)
        last = inv.last_run(self.engine, code)
        if known is not None and known.household != code:
            owner = f"household {known.household}" if known.household else "no household"
            raise ProvisioningError(
                f"ONU {serial} is already recorded on {known.olt} {known.pon_port} id {known.ont_id} for {owner}"
            )
        if hh.status == HouseholdStatus.ACTIVE and known is not None:
            self._confirm_done(out, known, dry_run)
            return
        if hh.status != HouseholdStatus.INSTALLED:
            raise ProvisioningError(f"household {code} is {hh.status}; only an installed household can be enrolled")
        plan = self.settings.plans.get(hh.plan)
        if plan is None:
            raise ProvisioningError(f"plan {hh.plan!r} of household {code} is not in provisioning.plans")
        if last is not None and last.state == EnrolmentState.ATTENTION and not dry_run:
            self._clean_up_attention(out, last)

        run_id = None if dry_run else inv.start_run(self.engine, code, "enrol", self.actor, serial=serial)
        out.run_id = run_id
        olts = [o for o in inv.district_olts(self.engine, hh.district) if o.cli_address]
        if not olts:
            raise ProvisioningError("no OLT in the inventory has a CLI address for provisioning")
        self._step(run_id, "find", f"looking for {serial} in autofind")
        driver, olt, port = self._find(out.transcript, olts, serial, dry_run)
        out.olt, out.pon_port = olt.name, port
        if run_id is not None:
            inv.update_run(self.engine, run_id, olt=olt.name, pon_port=port)
        reserved = False
        changed = False
        try:
            try:
                taken = {o.ont_id for o in driver.onts(port)}
                if dry_run:
                    taken |= inv.ids_in_use(self.engine, olt.name, port)
                    ont_id = next((i for i in range(driver.first_ont_id, driver.first_ont_id
                                                    + driver.max_onts_per_port) if i not in taken), None)
                    if ont_id is None:
                        raise ProvisioningError(f"PON port {port} of {olt.name} is full")
                else:
                    ont_id = inv.reserve_ont_id(self.engine, olt_name=olt.name, pon_port=port, serial=serial,
                                                household_code=code, taken_on_device=taken,
                                                first=driver.first_ont_id, capacity=driver.max_onts_per_port,
                                                actor=self.actor)
                    reserved = True
                out.ont_id = ont_id
                self._step(run_id, "add", f"adding {serial} as ONT {ont_id} on {olt.name} {port}", ont_id=ont_id)
                spec = OntSpec(port, ont_id, serial, code, plan.service_plan())
                changed = True  # from here on a failure may have left something on the OLT
                driver.add_ont(spec)
                self._step(run_id, "service", f"service port on VLAN {spec.plan.vlan}")
                driver.add_service(spec)
                self._step(run_id, "save", "saving the configuration")
                driver.save()
            except (DeviceRefused, SessionLost) as exc:
                raise _Failed(str(exc), "device") from exc
            except ProvisioningError as exc:
                raise _Failed(str(exc), "allocate") from exc
            if dry_run:
                out.state = EnrolmentState.NOOP
                out.message = f"dry run: would add {serial} as ONT {ont_id} on {olt.name} {port}; nothing was sent"
                return
            self._step(run_id, "verify", "waiting for the ONU to come up (SNMP)")
            verdict = self.verifier(self.config, self._snmp(olt), port, ont_id)
            out.rx_dbm = verdict.reading.rx_dbm
            if not verdict.ok:
                raise _Failed(f"verification failed: {verdict.reason}", "verify")
            self._step(run_id, "activate", "marking the household active")
            inv.set_status(self.engine, code, HouseholdStatus.ACTIVE, self.actor)
        except _Failed as failure:
            self._fail(out, driver, olt, failure, reserved=reserved, changed=changed)
            return
        finally:
            driver.close()
        out.state = EnrolmentState.DONE
        out.message = f"{serial} runs as ONT {out.ont_id} on {olt.name} {port}, Rx {out.rx_dbm:.2f} dBm; {code} active"
        self._finish(out, None)

    def _step(self, run_id: int | None, step: str, message: str, **fields: Any) -> None:
        if run_id is not None:
            inv.update_run(self.engine, run_id, step=step, **fields)
        self.progress(step, message)

    def _find(self, transcript: Transcript, olts: list[inv.OltView], serial: str,
              dry_run: bool) -> tuple[OltDriver, inv.OltView, str]:
        """The OLT and port whose autofind lists the serial; the session to it stays open."""
        unreachable: list[str] = []
        for olt in olts:
            try:
                driver = self._open(olt, transcript, dry_run)
            except ProvisioningError as exc:
                unreachable.append(str(exc))
                continue
            try:
                hit = next((a for a in driver.autofind() if a.serial == serial), None)
            except ProvisioningError as exc:
                driver.close()
                unreachable.append(f"{olt.name}: {exc}")
                continue
            if hit is not None:
                return driver, olt, hit.pon_port
            driver.close()
        where = ", ".join(o.name for o in olts)
        extra = f" ({'; '.join(unreachable)})" if unreachable else ""
        raise ProvisioningError(
            f"ONU {serial} is not in the autofind list of {where}{extra}: is it plugged in and powered, "
            "and is the serial right?"
        )

    def _confirm_done(self, out: Outcome, known: inv.OnuView, dry_run: bool) -> None:
        """A finished enrolment asked again: check the OLT still has it, and send nothing."""
        olt = inv.olt(self.engine, known.olt)
        driver = self._open(olt, out.transcript, dry_run)
        try:
            ont = driver.find_ont(known.serial)
        finally:
            driver.close()
        out.olt, out.pon_port, out.ont_id = known.olt, known.pon_port, known.ont_id
        if ont is None or (ont.pon_port, ont.ont_id) != (known.pon_port, known.ont_id):
            raise ProvisioningError(
                f"{out.household} is active with ONU {known.serial} on {known.olt} {known.pon_port} id "
                f"{known.ont_id}, but the OLT shows {_where(ont)}: the inventory and the OLT disagree"
            )
        out.state = EnrolmentState.NOOP
        out.message = f"{out.household} is already enrolled ({known.serial} on {known.olt} {known.pon_port} " \
                      f"id {known.ont_id}); nothing was changed"
        if not dry_run:
            out.run_id = inv.start_run(self.engine, out.household, "enrol", self.actor, serial=known.serial,
                                       olt=known.olt, pon_port=known.pon_port, ont_id=known.ont_id)
            hh_id = inv.finish_run(self.engine, out.run_id, EnrolmentState.NOOP, actor=self.actor, error=None,
                                   audit=None, outcome="noop", entity=f"household:{out.household}", action="enrol")
            log.info("enrol run %s (household #%s) ended %s", out.run_id, hh_id, out.state)

    # ------------------------------------------------------------------ suspend, resume, cancel
    def suspend(self, code: str, *, dry_run: bool = False) -> Outcome:
        """Deactivate the ONT (it stays configured, with its id and service port) and mark the household."""
        return self._line(code, "suspend", HouseholdStatus.SUSPENDED, dry_run)

    def resume(self, code: str, *, dry_run: bool = False) -> Outcome:
        return self._line(code, "resume", HouseholdStatus.ACTIVE, dry_run)

    def cancel(self, code: str, *, dry_run: bool = False) -> Outcome:
        """Remove the ONT and its service ports from the OLT, forget the ONU, mark the household cancelled."""
        return self._line(code, "cancel", HouseholdStatus.CANCELLED, dry_run)

    def _line(self, code: str, kind: str, target: HouseholdStatus, dry_run: bool) -> Outcome:
        t0 = time.perf_counter()
        out = Outcome(code, kind, EnrolmentState.RUNNING, "", dry_run=dry_run)
        try:
            self._change_line(out, target, dry_run)
        except ProvisioningError as exc:
            out.state, out.message = EnrolmentState.FAILED, str(exc)
            self._finish(out, str(exc))
        out.seconds = time.perf_counter() - t0
        return out

    def _change_line(self, out: Outcome, target: HouseholdStatus, dry_run: bool) -> None:
        code, kind = out.household, out.kind
        hh = inv.household(self.engine, code)
        if hh.status == target:
            out.state, out.message = EnrolmentState.NOOP, f"{code} is already {target}; nothing was changed"
            return
        try:
            check_transition(hh.status, target)
        except InventoryError as exc:
            raise ProvisioningError(f"{code}: {exc}") from None
        onu = inv.onu_of_household(self.engine, code)
        if onu is None:
            if kind != "cancel":
                raise ProvisioningError(f"{code} has no ONU in the inventory to {kind}")
            if not dry_run:  # never enrolled: only the inventory changes
                inv.set_status(self.engine, code, target, self.actor)
            out.state, out.message = EnrolmentState.DONE, f"{code} cancelled (no ONU was configured)"
            return
        out.serial, out.olt, out.pon_port, out.ont_id = onu.serial, onu.olt, onu.pon_port, onu.ont_id
        olt = inv.olt(self.engine, onu.olt)
        if not dry_run:
            out.run_id = inv.start_run(self.engine, code, kind, self.actor, serial=onu.serial, olt=onu.olt,
                                       pon_port=onu.pon_port, ont_id=onu.ont_id)
        driver = self._open(olt, out.transcript, dry_run)
        sent = 0
        try:
            ont = next((o for o in driver.onts(onu.pon_port) if o.ont_id == onu.ont_id), None)
            if ont is not None and ont.serial != onu.serial:
                raise ProvisioningError(f"{onu.olt} {onu.pon_port} id {onu.ont_id} holds {ont.serial}, not "
                                        f"{onu.serial}: the inventory and the OLT disagree; nothing was changed")
            self._step(out.run_id, kind, f"{kind} ONT {onu.ont_id} on {onu.olt} {onu.pon_port}")
            if kind == "cancel":
                if driver.delete_services(onu.pon_port, onu.ont_id):
                    sent += 1
                if ont is not None:
                    sent += 1
                    driver.delete_ont(onu.pon_port, onu.ont_id)
            elif ont is None:
                raise ProvisioningError(f"{onu.olt} has no ONT {onu.ont_id} on {onu.pon_port}: nothing to {kind}")
            else:
                sent += 1
                driver.set_active(onu.pon_port, onu.ont_id, kind == "resume")
            if sent or kind == "cancel":  # a cancel run again after its save was lost has only that left to do
                driver.save()
        except (DeviceRefused, SessionLost, ProvisioningError) as exc:
            partial = sent > 1 or (sent == 1 and isinstance(exc, SessionLost))
            out.state = EnrolmentState.ATTENTION if partial else EnrolmentState.FAILED
            out.message = f"{exc}" + ("; part of the change may be applied: run it again to finish" if partial else "")
            self._finish(out, str(exc))
            return
        finally:
            driver.close()
        if dry_run:
            out.state, out.message = EnrolmentState.NOOP, f"dry run: would {kind} {code}; nothing was sent"
            return
        if kind == "cancel":
            inv.forget_onu(self.engine, onu.serial, self.actor)
        inv.set_status(self.engine, code, target, self.actor)
        out.state, out.message = EnrolmentState.DONE, f"{code} {target} ({onu.serial} on {onu.olt} {onu.pon_port})"
        self._finish(out, None)

    # ------------------------------------------------------------------ failure and undo
    def _fail(self, out: Outcome, driver: OltDriver, olt: inv.OltView, failure: _Failed, *,
              reserved: bool, changed: bool) -> None:
        reason = failure.reason
        self.progress("undo", f"failed ({reason}); undoing")
        undone = True
        removed = False
        undo_error = ""
        if changed and not out.dry_run and out.ont_id is not None and out.pon_port is not None:
            try:
                self._undo(driver, olt, out.transcript, out.serial or "", out.pon_port, out.ont_id)
            except ProvisioningError as exc:
                undone, undo_error = False, str(exc)
                removed = isinstance(exc, _UndoIncomplete) and exc.removed
        if undone:
            if reserved and out.serial:
                inv.forget_onu(self.engine, out.serial, self.actor)
            out.state = EnrolmentState.FAILED
            out.message = f"{reason}; nothing is left on {olt.name}; {out.household} stays installed"
        elif removed:
            out.state = EnrolmentState.ATTENTION
            out.message = (
                f"{reason}; the undo removed ONT {out.ont_id} from the running configuration of {olt.name} "
                f"{out.pon_port} but could not save that ({undo_error}): the saved configuration may still hold "
                f"it, and a restart of the OLT would bring it back. The id stays reserved; run the enrolment "
                f"again to clean it up, or save the OLT's configuration by hand"
            )
        else:
            out.state = EnrolmentState.ATTENTION
            out.message = (
                f"{reason}; the undo failed too ({undo_error}): ONT {out.ont_id} on {olt.name} {out.pon_port} may "
                f"still be configured, and saved. The id stays reserved; run the enrolment again to clean it "
                f"up, or remove it (and save) by hand"
            )
        self._finish(out, reason)

    def _undo(self, driver: OltDriver, olt: inv.OltView, transcript: Transcript, serial: str, port: str,
              ont_id: int) -> None:
        """Remove what this run added at (port, ont_id), only if the serial there is ours, never a
        neighbour's, and save.

        The save is part of every undo, even when there is nothing left to remove: the run changed the
        running configuration and may have saved it (its own save, a save whose answer was lost, or
        another session's save meanwhile), so only a save after the removal makes the startup
        configuration clean. A lost session (the very reason a change may be half-known) is re-opened
        and the undo tried again from the start, looking again, removing what is still there, and saving,
        until a save has completed after the removal. Raises _UndoIncomplete if that cannot be done."""
        session: OltDriver | None = driver
        opened: list[OltDriver] = []
        problem = ""
        removed = False  # the running configuration holds nothing of the run (seen or made so)
        try:
            for attempt in range(self.settings.reconnect_attempts + 1):
                if attempt:
                    time.sleep(self.settings.reconnect_wait_seconds)
                if session is None:
                    try:
                        session = self._open(olt, transcript, False)
                        opened.append(session)
                    except ProvisioningError as exc:
                        problem = str(exc)
                        continue
                try:
                    ont = next((o for o in session.onts(port) if o.ont_id == ont_id), None)
                    if ont is not None and ont.serial == serial:
                        session.delete_services(port, ont_id)
                        session.delete_ont(port, ont_id)
                    elif ont is None:
                        session.delete_services(port, ont_id)  # a service port made before the session dropped
                    removed = True
                    session.save()
                    return
                except SessionLost as exc:
                    problem = str(exc)
                    session.close()
                    session = None
                except DeviceRefused as exc:
                    if removed:  # the removal stands; the OLT refused to save it
                        raise _UndoIncomplete(str(exc), removed=True) from exc
                    raise
            what = "save the undo on" if removed else "undo on"
            raise _UndoIncomplete(f"could not reach {olt.name} to {what} it: {problem}", removed=removed)
        finally:
            for s in opened:
                s.close()

    def _clean_up_attention(self, out: Outcome, last: Any) -> None:
        """The previous run may have left something behind, in the running or only in the saved
        configuration: take it off the OLT and save before starting again."""
        if last.olt is None or last.pon_port is None or last.ont_id is None or last.serial is None:
            return
        olt = inv.olt(self.engine, last.olt)
        self.progress("undo", f"cleaning up the previous run's ONT {last.ont_id} on {last.olt} {last.pon_port}")
        driver = self._open(olt, out.transcript, False)
        try:
            self._undo(driver, olt, out.transcript, last.serial, last.pon_port, last.ont_id)
        finally:
            driver.close()
        inv.forget_onu(self.engine, last.serial, self.actor)
        hh_id = inv.finish_run(self.engine, last.id, EnrolmentState.FAILED, actor=self.actor,
                               error=f"{last.error or ''} (cleaned up by a later run)".strip(),
                               audit={"device": last.olt, "transcript": out.transcript.as_json(),
                                      "cleanup_of": last.id},
                               outcome="cleaned up", entity=f"household:{out.household}", action="undo")
        log.info("%s run %s (household #%s): what it left on %s %s id %s is removed and saved", last.kind, last.id,
                 hh_id, last.olt, last.pon_port, last.ont_id)

    def _finish(self, out: Outcome, error: str | None) -> None:
        if out.dry_run or out.run_id is None:
            return
        audit = {
            "device": out.olt,
            "serial": out.serial,
            "pon_port": out.pon_port,
            "ont_id": out.ont_id,
            "transcript": out.transcript.as_json(),
        }
        outcome = "ok" if out.state == EnrolmentState.DONE else f"{out.state}: {error}"
        hh_id = inv.finish_run(self.engine, out.run_id, out.state, actor=self.actor, error=error, audit=audit,
                               outcome=outcome, entity=f"household:{out.household}", action=out.kind,
                               rx_dbm=out.rx_dbm, ont_id=out.ont_id, step="done" if error is None else "failed")
        # ids only: the code, and the reason (the device's words may quote a description), are in the audit
        if out.state == EnrolmentState.ATTENTION:
            log.warning("%s run %s (household #%s) needs attention: ONT %s on %s %s may be left on the OLT",
                        out.kind, out.run_id, hh_id, out.ont_id, out.olt, out.pon_port)
        else:
            log.info("%s run %s (household #%s) ended %s", out.kind, out.run_id, hh_id, out.state)


def _where(ont: OntEntry | None) -> str:
    return "nothing" if ont is None else f"{ont.serial} at {ont.pon_port} id {ont.ont_id}"
