"""Which database backends a test runs on.

A test that asks for a database runs on both by default (`on_both_backends`, the session's
`backend`): SQLite, the zero-setup default, and PostgreSQL, production's. That is where the backend
plays a part: the services whose storage differs between the two (members, points, campaigns: SQL
of each dialect), the shared storage mechanisms (tests/messaging), migrations and the end-to-end
flows.

Where it plays none, a test runs on PostgreSQL alone (`on_postgres_only`): the gateway and feedback,
whose storage is the shared one through the ORM with nothing of either dialect (their default
SQLite setup runs in the end-to-end flows on both backends), and, in the other services, the tests
of the access policy and of refused input, which are answered before any storage. Running those on
both backends tested nothing more and took about a tenth of the suite's time.

In a conftest.py for a directory, or a test module for itself:

    from tests.support.backends import on_postgres_only  # noqa: F401  (this directory's `backend`)
"""

import pytest


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
def on_both_backends(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(name="backend")
def on_postgres_only() -> str:
    return "postgres"
