"""The inventory: what the town's network is made of, in SQL (SQLite by default, PostgreSQL in production).

``models`` holds the tables, ``db`` engines, sessions and Alembic migrations, ``io`` the YAML/CSV
import and export, ``lookup`` the read-only views that the poller needs.
"""
