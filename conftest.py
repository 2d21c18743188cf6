"""Fixtures for every test in the repository: real broker, real databases, service harness."""

pytest_plugins = ["tests.support.infra", "tests.support.platform", "tests.support.members"]
