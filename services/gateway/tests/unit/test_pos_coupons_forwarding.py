"""The till's coupon calls reach the campaigns service as the till sent them, with its own token,
and campaigns' answer comes back unchanged; a campaigns service that is down or slow is a clear 503
or 504, never a 500. Campaigns is an httpx mock transport recording what it receives."""

import json
from pathlib import Path

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair

BODY = {"store_id": "S001", "pos_txn_id": "S001-T03-000123", "codes": ["K7QM2XWD9P"], "basket": {"total": "120.00"}}
ANSWER = {"codes": [{"code": "K7QM2XWD9P", "ok": False, "reason": "expired", "message": "优惠券已过期 / coupon expired"}]}


class Campaigns:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = httpx.Response(200, json=ANSWER)
        self.failure: Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        return self.answer


@pytest.fixture
def campaigns() -> Campaigns:
    return Campaigns()


@pytest.fixture
def tokens():
    return generate_keypair()


def gateway_with(tmp_path: Path, tokens, campaigns_client: httpx.AsyncClient | None) -> httpx.AsyncClient:
    _, public = tokens
    settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public, pos_coupon_timeout_s=5.0)
    app = create_app(settings)
    app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
    unused = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(599)), base_url="http://unused")
    app.state.downstream = Downstream(members=unused, points=unused, feedback=unused, campaigns=campaigns_client)
    # The stores the bodies name, as the gateway's store table would answer (no database here:
    # the open stores are all seen open, so their table is never read).
    app.state.open_stores.saw_open(["S001", "S002"])
    app.state.commands = None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


@pytest.fixture
def gateway(tmp_path: Path, tokens, campaigns: Campaigns) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.MockTransport(campaigns), base_url="http://campaigns")
    return gateway_with(tmp_path, tokens, client)


def till(tokens, store: str = "S001") -> str:
    return TokenIssuer(tokens[0]).mint("till-03", Role.POS, store_id=store)


@pytest.mark.parametrize("operation", ["validate", "reserve", "release"])
async def test_the_call_reaches_campaigns_with_the_tills_token_and_body(gateway, campaigns, tokens, operation: str) -> None:
    token = till(tokens)
    raw = json.dumps(BODY, ensure_ascii=False).encode()
    r = await gateway.post(f"/pos/v1/coupons/{operation}", content=raw,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                    "Accept-Language": "zh-CN"})
    assert r.status_code == 200, r.text
    assert r.json() == ANSWER
    [sent] = campaigns.requests
    assert sent.method == "POST" and sent.url.path == f"/v1/coupons/{operation}"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert sent.headers["accept-language"] == "zh-CN"
    assert sent.content == raw
    # The till's short budget, not the 30 s of staff forwarding.
    assert sent.extensions["timeout"]["read"] == 5.0


@pytest.mark.parametrize(("status", "body"), [
    (409, {"detail": "coupon K7QM2XWD9P is reserved by another transaction"}),
    (422, {"detail": [{"loc": ["body", "codes", 0], "msg": "bad check character"}]}),
    (429, {"detail": "cap reached"}),
])
async def test_campaigns_refusals_come_back_unchanged(gateway, campaigns, tokens, status: int, body: dict) -> None:
    campaigns.answer = httpx.Response(status, json=body, headers={"Retry-After": "3"})
    r = await gateway.post("/pos/v1/coupons/reserve", json=BODY, headers={"Authorization": f"Bearer {till(tokens)}"})
    assert r.status_code == status and r.json() == body
    assert r.headers["retry-after"] == "3"


async def test_a_till_of_another_store_is_refused_before_anything_is_forwarded(gateway, campaigns, tokens) -> None:
    r = await gateway.post("/pos/v1/coupons/validate", json=BODY, headers={"Authorization": f"Bearer {till(tokens, 'S002')}"})
    assert r.status_code == 403 and "S002" in r.json()["detail"]
    assert campaigns.requests == []


async def test_only_tills_use_the_coupon_routes(gateway, campaigns, tokens) -> None:
    desk = TokenIssuer(tokens[0]).mint("desk", Role.SERVICE_DESK, store_id="S001")
    r = await gateway.post("/pos/v1/coupons/validate", json=BODY, headers={"Authorization": f"Bearer {desk}"})
    assert r.status_code == 403
    assert (await gateway.post("/pos/v1/coupons/validate", json=BODY)).status_code == 401
    assert campaigns.requests == []


async def test_a_body_that_is_not_a_json_object_is_422_and_not_forwarded(gateway, campaigns, tokens) -> None:
    r = await gateway.post("/pos/v1/coupons/validate", content=b"[1, 2", headers={
        "Authorization": f"Bearer {till(tokens)}", "Content-Type": "application/json"})
    assert r.status_code == 422
    assert campaigns.requests == []


@pytest.mark.parametrize(("failure", "status", "detail"), [
    (httpx.ConnectError("connection refused"), 503, "campaigns service unavailable: ConnectError"),
    (httpx.ConnectTimeout("no answer to connect"), 503, "campaigns service unavailable: ConnectTimeout"),
    (httpx.ReadTimeout("slow"), 504, "campaigns service did not answer within 5.0s"),
    (httpx.RemoteProtocolError("server disconnected"), 503, "campaigns service unavailable: RemoteProtocolError"),
])
async def test_a_campaigns_service_that_is_down_or_slow_is_503_or_504(
    gateway, campaigns, tokens, failure: Exception, status: int, detail: str
) -> None:
    campaigns.failure = failure
    r = await gateway.post("/pos/v1/coupons/reserve", json=BODY, headers={"Authorization": f"Bearer {till(tokens)}"})
    assert r.status_code == status and r.json() == {"detail": detail}


async def test_a_gateway_without_campaigns_configured_answers_503(tmp_path, tokens) -> None:
    client = gateway_with(tmp_path, tokens, None)
    r = await client.post("/pos/v1/coupons/validate", json=BODY, headers={"Authorization": f"Bearer {till(tokens)}"})
    assert r.status_code == 503 and r.json() == {"detail": "campaigns service unavailable: not configured"}


async def test_staff_reach_the_campaigns_api_through_the_pass_through(gateway, campaigns, tokens) -> None:
    marketing = TokenIssuer(tokens[0]).mint("mkt", Role.MARKETING)
    campaigns.answer = httpx.Response(200, json=[])
    r = await gateway.get("/api/campaigns/v1/segments?tier=vip&tier=member",
                          headers={"Authorization": f"Bearer {marketing}"})
    assert r.status_code == 200 and r.json() == []
    [sent] = campaigns.requests
    assert sent.url.path == "/v1/segments" and sent.url.params.get_list("tier") == ["vip", "member"]
    assert sent.headers["authorization"] == f"Bearer {marketing}"
