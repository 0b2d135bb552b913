"""The session listeners (personal-data audit, household status history) are installed explicitly, by
``db.make_engine`` and ``db.session_factory``, never as a side effect of importing some module.

Each check runs in a fresh interpreter, so that nothing this test process imported earlier helps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from ftthnoc.inventory import db

ROOT = Path(__file__).resolve().parents[3]


def _run(script: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_session_from_the_factory_alone_dates_status_changes_and_audits(database_url: str) -> None:
    db.upgrade(database_url)
    result = _run(
        """
        import json, sys
        import sqlalchemy as sa
        from ftthnoc.inventory import db, models
        from ftthnoc.inventory.listeners import installed  # already imported by db

        before = installed()
        engine = sa.create_engine(sys.argv[1])  # a plain engine: the session factory must install them
        maker = db.session_factory(engine)
        db.session_factory(engine)  # again: still one listener of each kind
        with maker() as s:
            district = models.District(code="chiyoda", name="千代田", households=10)
            home = models.Household(code="HH-000001", district=district, plan="1G", status="applied")
            s.add_all([district, home])
            s.commit()
            home.change_status("surveyed")
            s.commit()
            s.add(models.HouseholdContact(household=home, name="n", address="a"))
            s.commit()
        with engine.connect() as c:
            statuses = c.execute(sa.text("SELECT status FROM household_status_changes ORDER BY id")).scalars()
            audits = c.execute(sa.text("SELECT action, entity FROM audit_entries ORDER BY id")).all()
            result = {
                "before": before,
                "after": installed(),
                "statuses": list(statuses),
                "audits": [list(a) for a in audits],
                "modules": sorted(m for m in sys.modules if m.startswith(("ftthnoc.", "app", "api"))),
            }
        engine.dispose()
        print(json.dumps(result))
        """,
        database_url,
    )
    assert result["before"] is False
    assert result["after"] is True
    assert result["statuses"] == ["applied", "surveyed"]
    assert result["audits"] == [["create", "household_contact"]]
    assert not [m for m in result["modules"] if m.startswith(("app", "api", "ftthnoc.inventory.io"))]


def test_make_engine_installs_them_too_and_importing_models_installs_nothing() -> None:
    result = _run(
        """
        import json
        from sqlalchemy import event
        from sqlalchemy.orm import Session
        import ftthnoc.inventory.models, ftthnoc.kpi.models
        from ftthnoc.inventory.models import audit_personal_changes
        from ftthnoc.kpi.models import record_status_changes

        def state():
            return [event.contains(Session, "before_flush", audit_personal_changes),
                    event.contains(Session, "after_flush", record_status_changes)]

        imported = state()
        from ftthnoc.inventory import db
        after_import_of_db = state()
        db.make_engine("sqlite://").dispose()
        print(json.dumps([imported, after_import_of_db, state()]))
        """
    )
    assert result == [[False, False], [False, False], [True, True]]
