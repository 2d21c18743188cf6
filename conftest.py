"""Fixtures for every test in the repository: real broker, real databases, service harness.

Tests come in tiers, selected with `-m` (see README, Tests):
- `unit`: every test under `*/tests/unit/` and `shared/tests/`, marked here by path; they need neither
  the broker nor a database, and a unit test that asks for either fails at collection.
- `integration`: a real database (SQLite and embedded PostgreSQL); marked here as well for any test
  that uses the database fixtures.
- `kafka`: the real broker (Tansu). Only these tests start it; marked here as well for any test that
  uses the `broker` fixture.
- `e2e`, `fuzz`: marked by their modules.
"""

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.infra", "tests.support.platform", "tests.support.members"]

ROOT = Path(__file__).parent
UNIT_DIRS = ("shared/tests",)
# Fixtures that start infrastructure, by the tier a test that uses them belongs to.
DATABASE_FIXTURES = {"postgres", "database_factory", "migrated_templates", "database_dir"}
BROKER_FIXTURES = {"broker"}
SERVICE_FIXTURES = {"env"}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers a core. Most tests wait on services, brokers and databases: a worker
    a core left a third of the CPU idle, and on two cores the whole suite took 29 min with three
    workers and 25 with four (same host, same day)."""
    return max(1, len(os.sched_getaffinity(0)) * 2)


def _is_unit(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return "/tests/unit/" in f"/{relative}" or relative.startswith(UNIT_DIRS)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced: list[str] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if _is_unit(item.path):
            item.add_marker(pytest.mark.unit)
            if needs := fixtures & (DATABASE_FIXTURES | BROKER_FIXTURES | SERVICE_FIXTURES):
                misplaced.append(f"{item.nodeid} uses {', '.join(sorted(needs))}")
        if fixtures & DATABASE_FIXTURES and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)
        if fixtures & BROKER_FIXTURES and item.get_closest_marker("kafka") is None:
            item.add_marker(pytest.mark.kafka)
    if misplaced:
        raise pytest.UsageError(
            "unit tests need neither the broker nor a database; move these to tests/integration:\n  "
            + "\n  ".join(misplaced)
        )
    # The longest tests first (whole platforms, browsers, fuzzing; then the broker's; then the
    # database's): handed out last, one of them kept a single worker busy for minutes after the
    # others had run out of tests. Within a tier, the order of collection.
    items.sort(key=_tier)


def _tier(item: pytest.Item) -> int:
    if any(item.get_closest_marker(m) for m in ("e2e", "browser", "fuzz")):
        return 0
    for rank, marker in enumerate(("kafka", "integration"), start=1):
        if item.get_closest_marker(marker):
            return rank
    return 3
