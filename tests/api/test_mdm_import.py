"""``POST /api/tablets/mdm-imports``: an MDM export uploaded as the CSV body by an admin (every school) or
a school user (its own school's tablets only; another school's serials count as not in the inventory and
are not named), audited with ``via: api``; a bad line answers 422 naming it, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from ftthnoc.inventory import db
from ftthnoc.inventory.models import AuditEntry, School, Tablet, TabletSighting
from tests.api.conftest import Seeded, TestClient, bearer

HEADER = ("Serial Number,Status,Last Sync,Org Unit Path,Annotated User,Annotated Asset ID,Model,MAC Address,"
          "Wifi MAC,Recent User 1")  # fmt: skip


def serial_of(engine: Engine, school: str, asset: str) -> str:
    with db.session_scope(engine) as s:
        return s.execute(select(Tablet.serial).join(School).where(School.code == school,
                                                                  Tablet.asset_no == asset)).scalar_one()


def sightings(engine: Engine) -> dict[tuple[str, str], datetime]:
    with db.session_scope(engine) as s:
        rows = s.execute(select(School.code, Tablet.asset_no, TabletSighting.seen_at)
                         .join(Tablet, TabletSighting.tablet_id == Tablet.id).join(School))  # fmt: skip
        return {(code, asset): at.replace(tzinfo=UTC) for code, asset, at in rows}


def test_a_school_user_imports_its_own_tablets_only(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    synced = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    mine, theirs = serial_of(engine, "chiyoda-es", "T-0001"), serial_of(engine, "oasa-es", "T-0001")
    body = (f"{HEADER}\n"
            f"{mine},ACTIVE,{synced.strftime('%Y-%m-%dT%H:%M:%S.000Z')},/ES,山田太郎,T-0001,Chromebook,,,taro@example.jp\n"
            f"{theirs},ACTIVE,{synced.strftime('%Y-%m-%dT%H:%M:%S.000Z')},/ES,,,Chromebook,,,\n")  # fmt: skip
    answer = client.post("/api/tablets/mdm-imports?kind=google&filename=chromeos.csv", content=body.encode(),
                         headers={**bearer(seeded.tokens["school"]), "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "google", "devices": 2, "matched": 1, "seen": 1, "never_synced": 0,
                             "macs_learned": 0, "classes_filled": 0, "not_in_inventory": 1,
                             "schools": ["chiyoda-es"]}  # fmt: skip
    assert sightings(engine) == {("chiyoda-es", "T-0001"): synced}
    with db.session_scope(engine) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "mdm:google")).one()
    assert audit.actor == "chiyoda-teacher" and audit.detail["via"] == "api" and audit.detail["file"] == "chromeos.csv"
    assert "山田" not in repr(audit.detail) and "taro" not in repr(audit.detail)

    tablet = client.get(f"/api/tablets/{seeded.tablets[('chiyoda-es', 'T-0001')]}",
                        headers=bearer(seeded.tokens["school"])).json()  # fmt: skip
    assert tablet["seen_by"] == [{"source": "mdm:google", "seen_at": synced.isoformat().replace("+00:00", "Z")}]
    assert tablet["network_mac"] is None and tablet["last_seen_at"] is not None

    # the same file by an admin: both schools' tablets
    answer = client.post("/api/tablets/mdm-imports?kind=google", content=body.encode(),
                         headers={**bearer(seeded.tokens["admin"]), "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["matched"] == 2
    assert set(sightings(engine)) == {("chiyoda-es", "T-0001"), ("oasa-es", "T-0001")}


def test_a_bad_line_is_named_and_nothing_is_written(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    mine = serial_of(engine, "chiyoda-es", "T-0001")
    body = f"{HEADER}\n{mine},ACTIVE,2026-12-01T00:00:00Z,/ES,,,Chromebook,,,\n{mine},ACTIVE,soon,/ES,,,x,,,\n"
    answer = client.post("/api/tablets/mdm-imports?kind=google&filename=bad.csv", content=body.encode(),
                         headers={**bearer(seeded.tokens["admin"]), "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["detail"] == ("1 problem(s); nothing was written: bad.csv line 3 (mdm:google): last sync: "
                                       "'soon' is not a time (want e.g. 2026-12-03T08:15:00Z)")  # fmt: skip
    assert sightings(engine) == {}
    answer = client.post("/api/tablets/mdm-imports?kind=jamf", content=body.encode(),
                         headers={**bearer(seeded.tokens["admin"]), "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 422 and "is not a jamf export: no column 'Last Inventory Update'" in answer.text
