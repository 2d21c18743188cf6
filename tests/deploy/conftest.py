"""Fixtures of the deployment tests: the kustomizations, rendered once per session by kubectl."""

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import KUSTOMIZATION_DIRS, kustomize_build


@pytest.fixture(scope="session")
def kustomize_builds() -> dict[Path, tuple[dict[str, Any], ...]]:
    """`kubectl kustomize` of the base and of every overlay, keyed by directory."""
    return {directory: kustomize_build(directory) for directory in KUSTOMIZATION_DIRS}
