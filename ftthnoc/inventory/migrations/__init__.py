"""Alembic migrations of the inventory schema (a package so that it ships inside the wheel)."""
