"""Layers point one way: api -> service_layer -> domain. Nothing under a service's domain/ or
service_layer/, nor its jobs.py or consumers.py, imports FastAPI, Starlette or the service's own api."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
FORBIDDEN_ROOTS = {"fastapi", "starlette"}


def _lower_modules() -> list[tuple[str, Path]]:
    found = []
    for package in sorted(SERVICES.glob("*/src/*")):
        if not (package / "__init__.py").exists():
            continue
        for sub in ("domain", "service_layer"):
            found += [(package.name, p) for p in sorted((package / sub).rglob("*.py"))]
        found += [(package.name, package / f) for f in ("jobs.py", "consumers.py") if (package / f).exists()]
    return found


def _upward_imports(service: str, path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for name in names:
            parts = name.split(".")
            if parts[0] in FORBIDDEN_ROOTS or parts[:2] == [service, "api"]:
                bad.append(name)
    return bad


@pytest.mark.parametrize(("service", "path"), _lower_modules(), ids=lambda v: str(v).split("/services/")[-1])
def test_lower_layers_do_not_import_the_web_layer(service: str, path: Path) -> None:
    relative = str(path.relative_to(SERVICES))
    bad = _upward_imports(service, path)
    assert not bad, f"{relative} imports {', '.join(bad)}"


def test_the_walk_finds_every_service_layer() -> None:
    services = {service for service, _ in _lower_modules()}
    assert {"members", "points", "feedback", "gateway"} <= services
