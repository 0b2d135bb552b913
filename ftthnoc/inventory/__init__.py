"""The inventory: what the town's network is made of, in SQL (SQLite by default, PostgreSQL in production).

``models`` holds the tables, ``db`` engines, sessions and Alembic migrations, ``listeners`` the session
listeners ``db`` installs (personal-data audit, household status history), ``lookup`` the read-only views
that the poller needs. ``io`` imports and exports YAML/CSV documents: ``schemas`` (one pydantic row model
per section), ``rows`` (rows as read, and why one is refused), ``csvio`` and ``yamlio`` (the formats),
``validate`` (every row checked before anything is written), ``apply`` (the upsert) and ``tables`` (the
sections' ORM classes and natural keys).
"""
