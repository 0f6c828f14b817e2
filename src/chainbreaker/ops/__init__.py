"""Operational store (cases, key persons, ...): SQLAlchemy 2 over SQLite by default, PostgreSQL by URL."""
