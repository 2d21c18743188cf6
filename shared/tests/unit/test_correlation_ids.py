"""Every service keeps a caller's own request id (a till's receipt number, another system's trace
id) as its correlation id, unless it could break a log line or a header: then it makes a new one."""

from pathlib import Path

import httpx
import pytest
from asgi_correlation_id import correlation_id
from fastapi import APIRouter

from shared.service import ServiceSpec, build_service_app
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("sent", "kept"), [
    ("S001-T03-000124", True), ("0af7651916cd43dd8448eb211c80319c", True), ("trace:abc/7.1_x", True),
    ("till 3 / receipt 124", False), ("x" * 129, False), ("a\"b", False),
])
async def test_a_callers_own_request_id_is_kept_when_it_cannot_break_a_log_line(sent: str, kept: bool) -> None:
    router, seen = APIRouter(), []

    @router.get("/seen")
    async def where() -> None:
        seen.append(correlation_id.get())

    app = build_service_app(ServiceSettings(environment="test"), ServiceSpec("t", "t", [router], migrations=Path(".")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        r = await client.get("/seen", headers={"X-Correlation-ID": sent})
    # What the route worked under (its logs, its events, its calls to other services) is what it answers.
    assert r.status_code == 200 and seen == [r.headers["x-correlation-id"]]
    assert (seen[0] == sent) is kept and seen[0]
