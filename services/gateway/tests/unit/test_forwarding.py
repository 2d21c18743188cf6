"""What the gateway sends downstream: ids stay path data, repeated parameters all arrive, and
forwarded writes get the long budget while the 360 view keeps its short one. The downstream
services are httpx mock transports that record the requests they receive."""

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.adapters.clients import Downstream, close_clients, open_clients
from gateway.api.staff_http import StaffNoStoreMiddleware
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair
from tests.support.polling import eventually
from tests.support.providers import serving


class Recorder:
    def __init__(self, status: int = 200, body: object = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.body = status, body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body if self.body is not None else {})


@pytest.fixture
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def gateway(tmp_path: Path, keypair):
    private, public = keypair
    settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public, downstream_timeout_s=2.0,
                        forward_timeout_s=30.0)  # distinct from the mock clients' default of 5 s
    app = create_app(settings)
    app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
    # The store the bodies name, as if read open a moment ago: there is no database here to read it from.
    app.state.open_stores.saw_open(["S001"])
    recorders = {"members": Recorder(404, {"detail": "no such member"}), "points": Recorder(404), "feedback": Recorder(200, [])}
    app.state.downstream = Downstream(**{
        name: httpx.AsyncClient(transport=httpx.MockTransport(rec), base_url=f"http://{name}") for name, rec in recorders.items()
    })
    issuer = TokenIssuer(private)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    return client, recorders, {"Authorization": f"Bearer {issuer.mint('desk', Role.SERVICE_DESK, store_id='S001')}"}


async def test_a_member_id_with_a_question_mark_reaches_every_service_as_one_quoted_segment(gateway) -> None:
    client, recorders, desk = gateway
    r = await client.get("/api/v1/customers/abc%3Foffset%3D1%26x/360", headers=desk)
    assert r.status_code == 404 and r.json()["detail"] == "no member abc?offset=1&x"
    [overview] = recorders["members"].requests
    assert overview.url.raw_path == b"/v1/members/abc%3Foffset%3D1%26x/overview?purchases=10"
    assert recorders["points"].requests[0].url.raw_path == b"/v1/accounts/abc%3Foffset%3D1%26x?entries=10"
    complaints = recorders["feedback"].requests[0].url
    assert complaints.params.get_list("member_id") == ["abc?offset=1&x"] and complaints.params["limit"] == "10"


async def test_the_member_route_and_the_pass_through_quote_path_segments(gateway) -> None:
    client, recorders, desk = gateway
    await client.get("/api/v1/members/a%3Fb%23c", headers=desk)
    await client.get("/api/members/v1/members/a%3Fb/purchases", headers=desk)
    paths = [q.url.raw_path for q in recorders["members"].requests]
    assert paths == [b"/v1/members/a%3Fb%23c", b"/v1/members/a%3Fb/purchases"]


async def test_repeated_query_parameters_are_all_forwarded(gateway) -> None:
    client, recorders, desk = gateway
    await client.get("/api/members/v1/analytics/churn?risk=high&risk=lost&limit=5", headers=desk)
    [forwarded] = recorders["members"].requests
    assert forwarded.url.params.get_list("risk") == ["high", "lost"]
    assert forwarded.url.params["limit"] == "5"


async def test_staff_answers_carrying_customers_data_are_not_to_be_stored(gateway) -> None:
    client, _, desk = gateway
    for path in ("/api/members/v1/analytics/churn", "/api/v1/customers/m-1/360", "/console/customers", "/surveys/invitation-token"):
        r = await client.get(path, headers=desk)
        assert r.headers["cache-control"] == "no-store", (path, r.status_code)
    # A route's own caching stands: the console's static files keep theirs.
    assert (await client.get("/console/static/console.css")).headers["cache-control"] == "max-age=3600"
    assert "cache-control" not in (await client.get("/health/live")).headers


async def test_forwarded_requests_get_the_long_budget_not_the_one_of_aggregated_reads(gateway) -> None:
    client, recorders, desk = gateway
    await client.post("/api/v1/members", json={"name": "x"}, headers=desk)
    await client.post("/api/points/v1/redemptions", json={}, headers=desk)
    [register] = recorders["members"].requests
    assert register.extensions["timeout"]["read"] == 30.0
    assert recorders["points"].requests[0].extensions["timeout"]["read"] == 30.0


async def test_the_idempotency_key_of_a_registration_is_forwarded(gateway) -> None:
    client, recorders, desk = gateway
    await client.post("/api/v1/members", json={"name": "x"}, headers={**desk, "Idempotency-Key": "reg-0001-abcdef"})
    assert recorders["members"].requests[0].headers["idempotency-key"] == "reg-0001-abcdef"


async def test_header_values_with_bytes_beyond_ascii_are_forwarded_as_sent_not_a_server_error(gateway, keypair) -> None:
    """Starlette reads header values as Latin-1; forwarded as text, httpx refused a 0xFF (500)."""
    client, recorders, desk = gateway
    odd = {"Accept-Language": b"zh-\xff\xfe", "Content-Type": b"application/json; charset=\xff", "Idempotency-Key": b"key-\xff-0001"}
    r = await client.post("/api/members/v1/members", content=b"{}", headers={**desk, **odd})
    assert r.status_code == 404, r.text  # the members stand-in's answer, relayed
    forwarded = recorders["members"].requests[0].headers
    assert [v for k, v in forwarded.raw if k.decode().title() in odd] == list(odd.values())
    # The member app's calls forward the caller's Accept-Language the same way.
    member = {"Authorization": f"Bearer {TokenIssuer(keypair[0]).mint('app-m-1', Role.MEMBER, member_id='m-1')}"}
    r = await client.get("/app/v1/me", headers={**member, "Accept-Language": b"en-\xff"})
    assert r.status_code < 500, r.text
    assert recorders["members"].requests[-1].headers.get("accept-language").encode("latin-1") == b"en-\xff"


async def test_a_body_nested_deeper_than_the_json_parser_goes_is_forwarded_not_a_server_error(gateway) -> None:
    client, recorders, desk = gateway
    nested = b"[" * 100_000 + b"]" * 100_000
    r = await client.post("/api/members/v1/members", content=nested, headers={**desk, "Content-Type": "application/json"})
    assert r.status_code == 404, r.text  # the service's to refuse
    assert recorders["members"].requests[0].content == nested

async def test_views_beyond_the_admission_limit_wait_their_turn_and_past_the_budget_get_503(tmp_path: Path) -> None:
    private, public = generate_keypair()
    settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public, customer360_concurrency=1,
                        customer360_queue_s=0.2)
    app = create_app(settings)
    app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
    opened, release = asyncio.Event(), asyncio.Event()

    calls: list[str] = []

    async def members(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path.split("/")[3])
        if request.url.path == "/v1/members/m1/overview":  # the first view holds its slot until released
            opened.set()
            await release.wait()
        return httpx.Response(404, json={"detail": "no such member"})

    app.state.downstream = Downstream(
        members=httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members"),
        points=httpx.AsyncClient(transport=httpx.MockTransport(Recorder(404)), base_url="http://points"),
    )
    desk = {"Authorization": f"Bearer {TokenIssuer(private).mint('desk', Role.SERVICE_DESK, store_id='S001')}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        first = asyncio.create_task(client.get("/api/v1/customers/m1/360", headers=desk))
        await asyncio.wait_for(opened.wait(), 5)
        # Waits for the first view's slot past the 0.2 s budget (the first never lets go meanwhile).
        refused = await client.get("/api/v1/customers/m2/360", headers=desk)
        assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
        assert refused.json()["detail"] == "customer-360: too many views at once; try again in a moment"
        admission = app.state.customer360_admission
        admission.wait_s = 30  # now a view waits as long as it takes
        waiting = asyncio.create_task(client.get("/api/v1/customers/m3/360", headers=desk))

        async def third_waiting() -> bool:
            return admission.waiting == 1

        await eventually(third_waiting, what="the third view waiting for the first's slot")
        assert not waiting.done() and calls == ["m1"]  # nothing of the third view has started
        release.set()
        assert (await first).status_code == 404 and (await waiting).status_code == 404
        assert calls == ["m1", "m3"]


async def test_after_a_service_answers_500_the_next_post_through_the_gateway_still_reaches_it(tmp_path: Path) -> None:
    """The tester's report: after a 500 from points, the next POST was 503 "points service
    unavailable: ConnectTimeout" in 10 ms, unrun by points. A real uvicorn service and the gateway's
    own clients, as deployed: uvicorn closes the connection after the 500 without saying so."""
    ran: list[str] = []
    points = FastAPI()

    @points.post("/v1/accounts/{member_id}/adjustments")
    async def adjust(member_id: str) -> dict[str, str]:
        ran.append(f"adjust {member_id}")
        raise RuntimeError("a bug in the service: 500")

    @points.post("/v1/redemptions")
    async def redeem() -> dict[str, str]:
        ran.append("redeem")
        return {"redemption_id": "R1"}

    private, public = generate_keypair()
    async with serving(points) as points_url:
        settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public, points_url=points_url)
        app = create_app(settings)
        app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
        await open_clients(app)  # the production clients; the ASGI transport below runs no lifespan
        desk = {"Authorization": f"Bearer {TokenIssuer(private).mint('desk', Role.SERVICE_DESK, store_id='S001')}"}
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as gateway:
                for attempt in range(5):
                    broken = await gateway.post("/api/points/v1/accounts/M1/adjustments",
                                                json={"points": 5, "reason": "   "}, headers=desk)
                    assert broken.status_code == 500
                    r = await gateway.post("/api/points/v1/redemptions", json={"gift_id": "G1"}, headers=desk)
                    assert (r.status_code, r.json()) == (200, {"redemption_id": "R1"}), f"attempt {attempt}: {r.text}"
        finally:
            await close_clients(app)
    assert ran == ["adjust M1", "redeem"] * 5  # each once: nothing was sent twice


async def test_a_post_the_service_dropped_without_answering_is_503_saying_so_not_connect_timeout(tmp_path: Path) -> None:
    """The service read the POST and closed the connection without an answer: the 503 names what
    happened (the connection dropped, so the POST may have taken effect), where it used to say
    ConnectTimeout, which would mean nothing was sent. The POST is not sent again."""
    seen: list[bytes] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0])
        writer.close()

    service = await asyncio.start_server(drop, "127.0.0.1", 0)
    private, public = generate_keypair()
    settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public,
                        points_url=f"http://127.0.0.1:{service.sockets[0].getsockname()[1]}")
    app = create_app(settings)
    app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
    await open_clients(app)
    desk = {"Authorization": f"Bearer {TokenIssuer(private).mint('desk', Role.SERVICE_DESK, store_id='S001')}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as gateway:
            r = await gateway.post("/api/points/v1/redemptions", json={"gift_id": "G1"}, headers=desk)
    finally:
        await close_clients(app)
        service.close()
    assert (r.status_code, r.json()) == (503, {"detail": "points service unavailable: RemoteProtocolError"})
    assert seen == [b"POST /v1/redemptions HTTP/1.1"]


async def test_a_member_reads_through_the_pass_through_but_changes_only_through_the_app_api(gateway, keypair) -> None:
    client, recorders, desk = gateway
    issuer = TokenIssuer(keypair[0])
    member = {"Authorization": f"Bearer {issuer.mint('app-m-1', Role.MEMBER, member_id='m-1')}"}
    r = await client.get("/api/feedback/v1/complaints", params={"member_id": "m-1"}, headers=member)
    assert r.status_code == 200, r.text
    # Filing straight to feedback would skip the app's check that the complaint's sale is theirs.
    filing = {"category": "service", "description": "x", "sale": {"store_id": "S001", "pos_txn_id": "T-1"}}
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = await client.request(method, "/api/feedback/v1/complaints", json=filing, headers=member)
        assert r.status_code == 403 and "gateway.services.change" in r.text, (method, r.text)
    assert [req.method for req in recorders["feedback"].requests] == ["GET"]
    # Staff change things through it as before.
    r = await client.post("/api/feedback/v1/complaints", json=filing, headers=desk)
    assert r.status_code == 200 and [req.method for req in recorders["feedback"].requests] == ["GET", "POST"]


@pytest.mark.parametrize(("path", "stored"), [
    ("/identity/v1/staff", False),  # a new account's generated password, a second factor's secret, tokens
    ("/surveys/invitation-token", False),  # a customer's answers
    ("/health/live", True),
])
async def test_identity_answers_and_survey_pages_are_not_to_be_stored(path: str, stored: bool) -> None:
    async def answer(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=StaffNoStoreMiddleware(answer)), base_url="http://gateway")
    r = await client.get(path)
    assert ("cache-control" not in r.headers) if stored else r.headers["cache-control"] == "no-store"
