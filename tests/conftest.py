"""Shared fixtures. Tests touching the database run on PostgreSQL (make test sets DATABASE_URL)."""
