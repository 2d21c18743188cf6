"""The gateway's tests run on PostgreSQL alone (tests/support/backends.py says why); a module that
tests a storage mechanism under SQLite's one writer at a time says so itself."""

from tests.support.backends import on_postgres_only  # noqa: F401  (this directory's `backend`)
