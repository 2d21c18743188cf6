"""A test module's choice of database backend, where running on both would test nothing more.

Imported into a module, `backend` replaces the session's [sqlite, postgres] parametrisation:

    from tests.support.backends import on_postgres_only  # noqa: F401  (the module's `backend`)
"""

import pytest


@pytest.fixture(name="backend")
def on_postgres_only() -> str:
    """The production backend alone, for the console's page tests whose services are fakes: the
    gateway's database holds only the session there, and the gateway's storage is tested on both
    backends by its own tests (staff, sessions, identity, tills, sign-in)."""
    return "postgres"
