"""Each service's README lists every route of its OpenAPI document, and every route it lists is served.

The README's endpoint tables are the reference a developer works from (README.md, "What works
today"): a route added without a row, or a row left behind when a route went, fails here. So do a
row whose action (in tables with an `action` column) is not the one its route names, a job whose
`/v1/jobs/<name>/run` row names no job of the service, and a job of the service its README never
names.

A row's first cell names its routes in backticks, the way the READMEs write them:
`GET /v1/gifts/{gift_id}/stock?store_id=`, several methods as `GET\\|POST /path`, a bare `DELETE`
after a path for the same path, `[?...]` for an optional query and `[/{id}]` for an optional last
segment (both routes), and a following one-segment path such as `/resume` after
`POST /v1/campaigns/{id}/pause` for a sibling of the path before it (a longer one, or one after a
path of two segments, is a path of its own: `/health/ready`, `/metrics`). Query strings, `{...}`
parameter names and bodies written after the path do not matter. `/console/...` stands for the
console's pages, listed in the gateway README's Console section.
"""

import re
from importlib import import_module
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts

from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.revocations import RevokedTills
from shared.authorize import Authorize, forwarded, public
from tests.contracts.test_access_policy import SERVICES, app_of
from tests.support.policy import api_routes, guards

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
METHOD = "|".join(METHODS)
ROUTE = re.compile(rf"((?:{METHOD})(?:\s*(?:\\\||\|)\s*(?:{METHOD}))*)\s+(/\S*)")
JOB_RUN = re.compile(r"/v1/jobs/([a-z][a-z0-9-]*)/run")
# A job every service runs (shared.service), described once in the main README's settings.
SHARED_JOBS = {"processed-events-cleanup"}
CONSOLE = "/console/..."

Route = tuple[str, str]


def normalised(path: str) -> str:
    path = path.split("?", 1)[0].rstrip("/") or "/"
    return re.sub(r"\{[^}]*\}", "{}", path)  # {member_id}, {id}, {path:path} alike


def _variants(path: str) -> list[str]:
    path = re.sub(r"\[\?[^\]]*\]", "", path)
    optional = re.search(r"\[([^\]]*)\]", path)
    if optional is None:
        return [path]
    return [path[: optional.start()] + path[optional.end():], path[: optional.start()] + optional.group(1) + path[optional.end():]]


def documented_rows(readme: str) -> list[tuple[set[Route], str | None]]:
    """Each table row naming routes in its first column: (method, normalised path) of those routes,
    and the row's action where its table has a column `action`."""
    rows = []
    heading = ""
    for line in readme.splitlines():
        cells = re.split(r"(?<!\\)\|", line)
        if line.startswith("| ") and not line.startswith("| `") and len(cells) > 2:
            heading = cells[2].strip()  # the column under which the rows below name their action
        if not line.startswith("| `"):
            continue
        found: set[Route] = set()
        methods: list[str] = []
        previous = ""
        for span in re.findall(r"`([^`]*)`", cells[1]):
            span = span.strip()
            if match := ROUTE.match(span):
                methods, path = re.findall(METHOD, match.group(1)), match.group(2)
            elif span in METHODS and previous:
                methods, path = [span], previous
            elif span.startswith("/") and methods and previous:
                path = span.split()[0]
                if span.count("/") == 1 and normalised(previous).count("/") > 2:
                    path = previous.split("?", 1)[0].rsplit("/", 1)[0] + path
            else:
                continue
            previous = path
            found |= {(method, normalised(variant)) for variant in _variants(path) for method in methods}
        if found:
            rows.append((found, cells[2] if heading == "action" and len(cells) > 2 else None))
    return rows


def documented_routes(readme: str) -> set[Route]:
    """(method, normalised path) of every route the README's tables name in their first column."""
    return {route for routes, _ in documented_rows(readme) for route in routes}


def guard_name(route: RouteContext) -> str | None:
    """The action a route names, or `public` / `forwarded`, as the access policy test reads them."""
    for guard in guards(route.dependant):
        if isinstance(guard, Authorize):
            return guard.action
        return "public" if guard is public else "forwarded" if guard is forwarded else None
    return None


def served_routes(app: FastAPI) -> set[Route]:
    return {
        (method, normalised(route.path or ""))
        for route in iter_route_contexts(app.routes)
        for method in getattr(route, "methods", None) or ()
        if method in METHODS
    }


def offered_routes(app: FastAPI) -> set[Route]:
    """The routes of the OpenAPI document: what the service offers its callers."""
    return {(method.upper(), normalised(path)) for path, item in app.openapi()["paths"].items() for method in item}


def job_names(readme: str) -> set[str]:
    return set(JOB_RUN.findall(readme))


def scheduled_job_names(service: str, tmp_path: Path) -> set[str]:
    """The service's own jobs, as its create_app schedules them (the gateway's with its revocation lists)."""
    settings = import_module(f"{service}.config").Settings(environment="test", data_dir=tmp_path)
    extra = (RevokedTills(), RevokedMembers()) if service == "gateway" else ()
    return {job.name for job in import_module(f"{service}.jobs").scheduled_jobs(settings, *extra)}


def covers(served: Route, listed: Route) -> bool:
    """A served route covers a listed one of its shape: `/v1/campaigns/{}/pause` is the campaign
    route `/{action}` with `pause`, `/v1/jobs/escalation/run` the jobs route with `escalation`."""
    (method, path), (listed_method, listed_path) = served, listed
    segments, listed_segments = path.split("/"), listed_path.split("/")
    return method == listed_method and len(segments) == len(listed_segments) and all(
        s in ("{}", t) for s, t in zip(segments, listed_segments, strict=True))


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_in_the_readme_and_every_listed_route_is_served(service: str, tmp_path: Path) -> None:
    app = app_of(service, tmp_path)
    readme = (ROOT / "services" / service / "README.md").read_text()
    documented = documented_routes(readme)
    undocumented = sorted(route for route in offered_routes(app) if not any(covers(route, row) for row in documented))
    assert not undocumented, f"services/{service}/README.md lists no row for {undocumented}"
    served = served_routes(app)
    gone = sorted(
        row for row in documented
        if not any(covers(route, row) for route in served)
        and not (row[1] == CONSOLE and any(path.startswith("/console/") for _, path in served))
    )
    assert not gone, f"services/{service}/README.md lists routes the service does not serve: {gone}"
    wrong_action = []
    with_actions = [(routes, cell) for routes, cell in documented_rows(readme) if cell is not None]
    for route in api_routes(app):
        name = guard_name(route)
        for method in (route.methods or set()) & set(METHODS):
            served_route = (method, normalised(route.path or ""))
            # The row of the route itself where there is one (`/v1/campaigns/{id}` before `/{action}`'s `pause`).
            cells = [cell for routes, cell in with_actions if served_route in routes] or [
                cell for routes, cell in with_actions if any(covers(served_route, row) for row in routes)]
            names_it = (f"`{name}`" in cell or cell.strip().split(" ")[0] == name for cell in cells)
            if name is not None and cells and not any(names_it):
                wrong_action.append(f"{method} {route.path}: the route names {name}, the README {[c.strip() for c in cells]}")
    assert not wrong_action, f"services/{service}/README.md names another action than the route: {wrong_action}"
    jobs = scheduled_job_names(service, tmp_path) | SHARED_JOBS
    unknown = sorted(job_names(readme) - jobs)
    assert not unknown, f"services/{service}/README.md runs jobs the service does not have: {unknown} (it has {sorted(jobs)})"
    unnamed = sorted(name for name in jobs - SHARED_JOBS if f"`{name}`" not in readme and name not in job_names(readme))
    assert not unnamed, f"services/{service}/README.md does not name its jobs {unnamed}"


def test_the_readme_notation_is_read_as_written() -> None:
    rows = "\n".join([
        "| `GET /v1/gifts/{gift_id}/stock?store_id=` | x | y |",
        "| `GET\\|POST /app/v1/surveys/{token}`, `DELETE` | x | y |",
        "| `POST /v1/campaigns/{id}/pause`, `/resume` | x | y |",
        "| `GET /v1/campaigns[?state=]`, `/v1/campaigns/{id}` | x | y |",
        "| `GET /app/v1/complaints[/{id}]` | x | y |",
        "| `GET /health/live`, `/health/ready`, `/metrics` | public | y |",
        "| `CRM_NOT_A_ROUTE` | `GET /not/in/the/first/cell` | y |",
    ])
    assert documented_routes(rows) == {
        ("GET", "/v1/gifts/{}/stock"),
        ("GET", "/app/v1/surveys/{}"), ("POST", "/app/v1/surveys/{}"), ("DELETE", "/app/v1/surveys/{}"),
        ("POST", "/v1/campaigns/{}/pause"), ("POST", "/v1/campaigns/{}/resume"),
        ("GET", "/v1/campaigns"), ("GET", "/v1/campaigns/{}"),
        ("GET", "/app/v1/complaints"), ("GET", "/app/v1/complaints/{}"),
        ("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/metrics"),
    }
    table = "\n".join([
        "| method and path | action | what it does |", "|---|---|---|", "| `POST /v1/a` | `points.gift.write` | y |",
        "", "| route | owning service |", "|---|---|", "| `GET /app/v1/b` | points' |",
    ])
    assert documented_rows(table) == [({("POST", "/v1/a")}, " `points.gift.write` "), ({("GET", "/app/v1/b")}, None)]
