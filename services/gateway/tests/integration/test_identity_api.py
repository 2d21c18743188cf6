"""Client credentials through the gateway: admins enroll, rotate and revoke tills and services
(audited); a client exchanges its credential for a short-lived token the services accept; every
failed authentication looks the same; brute force is throttled."""

import asyncio
import base64
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from gateway.adapters.tables import IdentityClientRow
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenVerifier
from tests.support.factories import sale_body
from tests.support.identity import MovableClock, admin, gateway_with_stores
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def gateway(env: TestEnv, database_factory, clock: MovableClock):
    async with gateway_with_stores(env, await database_factory("gateway"), clock, identity_max_failures_per_address=5, identity_failure_window_s=60) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {**FORM, "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def enroll(gateway: httpx.AsyncClient, env: TestEnv, **body: str) -> dict:
    r = await gateway.post("/identity/v1/clients", json=body, headers=admin(env))
    assert r.status_code == 201, r.text
    return r.json()


async def exchange(gateway: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await gateway.post("/identity/v1/token", content="grant_type=client_credentials", headers=basic(client_id, secret))


def verifier(env: TestEnv) -> TokenVerifier:
    return TokenVerifier(env.public_key, "crm-identity", "crm")


async def test_a_till_exchanges_its_credential_for_a_pos_token_of_its_store_and_sells_with_it(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001", label="till 3")
    assert till["client_id"].startswith("till_") and len(till["client_secret"]) >= 43

    r = await exchange(gateway, till["client_id"], till["client_secret"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert r.headers["cache-control"] == "no-store"
    principal = verifier(env).verify(body["access_token"])
    assert (principal.role, principal.store_id, principal.subject) == (Role.POS, "S001", till["client_id"])

    sale = await gateway.post("/pos/v1/purchases", json=sale_body(store_id="S001"),
                              headers={"Authorization": f"Bearer {body['access_token']}"})
    assert sale.status_code == 202, sale.text
    other_store = await gateway.post("/pos/v1/purchases", json=sale_body(store_id="S002"),
                                     headers={"Authorization": f"Bearer {body['access_token']}"})
    assert other_store.status_code == 403


async def test_a_service_client_gets_a_service_token_named_for_its_service(gateway, env) -> None:
    svc = await enroll(gateway, env, kind="service", service="campaigns")
    r = await gateway.post("/identity/v1/token", content=(
        f"grant_type=client_credentials&client_id={svc['client_id']}&client_secret={svc['client_secret']}"
    ), headers=FORM)
    assert r.status_code == 200, r.text
    principal = verifier(env).verify(r.json()["access_token"])
    assert (principal.role, principal.subject, principal.store_id) == (Role.SERVICE, "campaigns", None)


async def test_the_secret_is_shown_once_and_stored_only_as_a_hash(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    listed = (await gateway.get("/identity/v1/clients", headers=admin(env))).json()
    one = (await gateway.get(f"/identity/v1/clients/{till['client_id']}", headers=admin(env))).json()
    assert [c["client_id"] for c in listed] == [till["client_id"]]
    assert "client_secret" not in listed[0] and "client_secret" not in one
    # Narrowed to a store: the chain's, or 422 (a store it never had would list no till, as if it had none).
    assert [c["client_id"] for c in (await gateway.get("/identity/v1/clients?store_id=S001", headers=admin(env))).json()] == [
        till["client_id"]]
    r = await gateway.get("/identity/v1/clients?store_id=NOPE", headers=admin(env))
    assert (r.status_code, r.json()["detail"]) == (422, "store_id: unknown store NOPE"), r.text
    async with gateway.app.state.sessions() as session:
        row = (await session.exec(select(IdentityClientRow))).one()
    assert till["client_secret"] not in row.secret_hash and len(row.secret_hash) == 64


@pytest.mark.parametrize("case", ["unknown client", "wrong secret", "revoked", "rotated away", "no credentials"])
async def test_every_failed_authentication_is_the_same_401_invalid_client(gateway, env, case) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    client_id, secret = till["client_id"], till["client_secret"]
    if case == "unknown client":
        client_id = "till_0000000000000000"
    elif case == "wrong secret":
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    elif case == "revoked":
        assert (await gateway.post(f"/identity/v1/clients/{client_id}/revoke", headers=admin(env))).status_code == 200
    elif case == "rotated away":
        assert (await gateway.post(f"/identity/v1/clients/{client_id}/rotate", headers=admin(env))).status_code == 200
    if case == "no credentials":
        r = await gateway.post("/identity/v1/token", content="grant_type=client_credentials", headers=FORM)
    else:
        r = await exchange(gateway, client_id, secret)
    assert r.status_code == 401
    assert r.json() == {
        "detail": "client authentication failed", "error": "invalid_client", "error_description": "client authentication failed",
    }
    assert r.headers["www-authenticate"].startswith("Basic")


async def test_rotation_gives_a_new_secret_that_works_and_revocation_is_final(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    rotated = (await gateway.post(f"/identity/v1/clients/{till['client_id']}/rotate", headers=admin(env))).json()
    assert rotated["client_secret"] != till["client_secret"] and rotated["rotated_at"] is not None
    assert (await exchange(gateway, till["client_id"], rotated["client_secret"])).status_code == 200

    revoked = await gateway.post(f"/identity/v1/clients/{till['client_id']}/revoke", headers=admin(env))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await exchange(gateway, till["client_id"], rotated["client_secret"])).status_code == 401
    again = await gateway.post(f"/identity/v1/clients/{till['client_id']}/rotate", headers=admin(env))
    assert again.status_code == 409 and "revoked" in again.json()["detail"]
    # Revoked clients leave the default listing but are still there to look at.
    assert (await gateway.get("/identity/v1/clients", headers=admin(env))).json() == []
    listed = (await gateway.get("/identity/v1/clients?include_revoked=true", headers=admin(env))).json()
    assert [c["client_id"] for c in listed] == [till["client_id"]]


async def test_every_change_is_audited_with_who_when_and_what(gateway, env, clock) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    clock.now += timedelta(minutes=1)
    await gateway.post(f"/identity/v1/clients/{till['client_id']}/rotate", headers=admin(env))
    clock.now += timedelta(minutes=1)
    await gateway.post(f"/identity/v1/clients/{till['client_id']}/revoke", headers=admin(env))
    await gateway.post(f"/identity/v1/clients/{till['client_id']}/revoke", headers=admin(env))  # changes nothing

    r = await gateway.get(f"/identity/v1/clients/{till['client_id']}/audit", headers=admin(env))
    assert r.status_code == 200, r.text
    trail = r.json()
    assert [(e["action"], e["actor"], e["actor_role"]) for e in trail] == [
        ("created", "admin-li", "admin"), ("rotated", "admin-li", "admin"), ("revoked", "admin-li", "admin"),
    ]
    assert trail[0]["detail"] == "till S001"
    times = [datetime.fromisoformat(e["at"]) for e in trail]
    assert times[1] - times[0] == timedelta(minutes=1) and times[2] - times[1] == timedelta(minutes=1)


async def test_wrong_secrets_for_a_till_from_elsewhere_never_keep_the_till_out(gateway, env) -> None:
    # A till's client id is no secret: the subject of its tokens. Guesses at its secret from other
    # addresses, as many as each is allowed, must not stop the till getting its token.
    till = await enroll(gateway, env, kind="till", store_id="S001")
    for n in range(4):  # 16 wrong secrets in all, each address within its 5
        elsewhere = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app, client=(f"10.9.0.{n}", 40000)),
                                      base_url=str(gateway.base_url))
        async with elsewhere:
            for _ in range(4):
                assert (await exchange(elsewhere, till["client_id"], "guess")).status_code == 401
    assert (await exchange(gateway, till["client_id"], till["client_secret"])).status_code == 200


async def test_the_token_endpoint_describes_its_throttle_as_it_counts_per_address_only(gateway) -> None:
    # It said "too many failures per client id or address", while the two tests around this one
    # show failures counted per address alone: a client reading it would expect a till locked out.
    described = (await gateway.get("/openapi.json")).json()["paths"]["/identity/v1/token"]["post"]["description"]
    flat = " ".join(described.split())
    assert "too many failures from one address" in flat and "not counted per client id" in flat
    assert "per client id or address" not in flat


async def test_guessing_many_client_ids_from_one_address_is_throttled(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    for n in range(5):
        assert (await exchange(gateway, f"till_guess{n}", "guess")).status_code == 401
    r = await exchange(gateway, till["client_id"], till["client_secret"])
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


async def test_a_burst_of_guesses_sent_at_once_gets_no_more_judged_than_the_address_allows(gateway, env, clock) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    answers = await asyncio.gather(*(exchange(gateway, f"till_guess{n}", "guess") for n in range(8)))
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 3
    assert (await exchange(gateway, till["client_id"], till["client_secret"])).status_code == 429
    clock.now += timedelta(seconds=61)
    assert (await exchange(gateway, till["client_id"], till["client_secret"])).status_code == 200


@pytest.mark.parametrize(("content", "headers", "status", "error", "field"), [
    ("grant_type=password&username=a&password=b", FORM, 400, "unsupported_grant_type", "grant_type"),
    ("client_id=a&client_secret=b", FORM, 400, "invalid_request", "grant_type"),
    ('{"grant_type": "client_credentials"}', {"Content-Type": "application/json"}, 400, "invalid_request", "body"),
    ("grant_type=client_credentials&grant_type=client_credentials", FORM, 400, "invalid_request", "grant_type"),
    (b"grant_type=client_credentials&client_id=\xff", FORM, 400, "invalid_request", "body"),
])
async def test_a_malformed_token_request_is_400_naming_the_field(gateway, content, headers, status, error, field) -> None:
    r = await gateway.post("/identity/v1/token", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and r.json()["detail"].startswith(f"{field}:")


async def test_odd_client_ids_are_simply_unknown_clients(gateway) -> None:
    for client_id in ("till_%00", "x" * 41, "till_é"):
        r = await gateway.post("/identity/v1/token", content=f"grant_type=client_credentials&client_id={client_id}&client_secret=s",
                               headers=FORM)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "till"}, "store_id"),
    ({"kind": "till", "store_id": "S999"}, "store_id"),
    ({"kind": "till", "store_id": "S001", "service": "campaigns"}, "service"),
    ({"kind": "service"}, "service"),
    ({"kind": "service", "service": "campaigns", "store_id": "S001"}, "store_id"),
])
async def test_enrolling_with_bad_input_is_422_naming_the_field(gateway, env, body, field) -> None:
    r = await gateway.post("/identity/v1/clients", json=body, headers=admin(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize("name", ["bogus", "gateway", "Campaigns!", "campaign"])
async def test_a_service_client_names_one_of_the_platforms_services(gateway, env, name) -> None:
    # Any well-formed name was enrolled, and its token was a `service` token for nobody ("bogus"),
    # or one with the gateway's own subject, which the gateway mints for itself and enrolls nowhere.
    r = await gateway.post("/identity/v1/clients", json={"kind": "service", "service": name}, headers=admin(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "service: a service client is one of the platform's services: members, points, feedback, campaigns"
    assert (await gateway.get("/identity/v1/clients", headers=admin(env))).json() == []


async def test_enrolling_a_till_for_an_inactive_store_is_refused(gateway, env) -> None:
    await gateway.put("/api/v1/stores/S003", json={"name": "closed", "active": False}, headers=admin(env))
    r = await gateway.post("/identity/v1/clients", json={"kind": "till", "store_id": "S003"}, headers=admin(env))
    assert r.status_code == 422 and "not active" in r.json()["detail"]


async def test_a_closed_stores_tills_get_no_token_until_it_reopens_and_keep_their_credentials(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001", label="till 1")
    other = await enroll(gateway, env, kind="till", store_id="S002", label="till 1")
    service_client = await enroll(gateway, env, kind="service", service="campaigns")
    r = await gateway.put("/api/v1/stores/S001", json={"name": "store S001", "active": False}, headers=admin(env))
    assert r.status_code == 200 and r.json()["active"] is False, r.text

    refused = await exchange(gateway, till["client_id"], till["client_secret"])
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["error"] == "unauthorized_client" and "access_token" not in body
    assert "S001" in body["error_description"] and "closed" in body["error_description"]
    assert body["detail"] == body["error_description"]
    # Another store's till and the services are not touched.
    assert (await exchange(gateway, other["client_id"], other["client_secret"])).status_code == 200
    assert (await exchange(gateway, service_client["client_id"], service_client["client_secret"])).status_code == 200
    # Said only to the till itself: a wrong secret is the same 401 as ever.
    wrong = await exchange(gateway, till["client_id"], "not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"

    # Closing is reversible: nothing was revoked, and the same secret works once the store reopens.
    listed = (await gateway.get(f"/identity/v1/clients/{till['client_id']}", headers=admin(env))).json()
    assert listed["revoked_at"] is None
    r = await gateway.put("/api/v1/stores/S001", json={"name": "store S001", "active": True}, headers=admin(env))
    assert r.status_code == 200, r.text
    reopened = await exchange(gateway, till["client_id"], till["client_secret"])
    assert reopened.status_code == 200, reopened.text
    token = reopened.json()["access_token"]
    sale = await gateway.post("/pos/v1/purchases", json=sale_body(store_id="S001"), headers={"Authorization": f"Bearer {token}"})
    assert sale.status_code == 202, sale.text


async def test_a_right_secret_refused_for_a_closed_store_is_no_failure_of_the_address(gateway, env) -> None:
    # The till proved its secret: its retries while the store is closed must not lock its address
    # (shared with the store's other tills) out of the exchange once the store reopens.
    till = await enroll(gateway, env, kind="till", store_id="S002")
    await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False}, headers=admin(env))
    for _ in range(8):  # beyond the fixture's 5 failures per address
        assert (await exchange(gateway, till["client_id"], till["client_secret"])).status_code == 400
    await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": True}, headers=admin(env))
    assert (await exchange(gateway, till["client_id"], till["client_secret"])).status_code == 200


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SERVICE, Role.OPERATOR])
async def test_only_admins_manage_credentials(gateway, env, role) -> None:
    claims = {"store_id": "S001"} if role == Role.STORE_MANAGER else {}
    headers = env.auth(role, ttl=timedelta(minutes=15), **claims)
    assert (await gateway.post("/identity/v1/clients", json={"kind": "till", "store_id": "S001"}, headers=headers)).status_code == 403
    assert (await gateway.get("/identity/v1/clients", headers=headers)).status_code == 403


async def test_an_unknown_client_is_404_to_the_admin(gateway, env) -> None:
    r = await gateway.post("/identity/v1/clients/till_nope/rotate", headers=admin(env))
    assert r.status_code == 404 and "till_nope" in r.json()["detail"]


async def test_without_a_signing_key_the_exchange_is_503_and_with_identity_off_it_is_not_there(env, database_factory, tmp_path) -> None:
    keyless = env.settings(Settings, await database_factory("gateway"), data_dir=tmp_path / "no-keys")
    async with service(create_app(keyless)) as gateway:
        r = await gateway.post("/identity/v1/token", content="grant_type=client_credentials&client_id=a&client_secret=b",
                               headers=FORM)
        assert r.status_code == 503 and "CRM_JWT_PRIVATE_KEY" in r.json()["detail"]
    off = env.settings(Settings, await database_factory("gateway"), identity_enabled=False)
    async with service(create_app(off)) as gateway:
        assert (await gateway.post("/identity/v1/token", content="grant_type=client_credentials", headers=FORM)).status_code == 404
        assert (await gateway.get("/identity/v1/clients", headers=admin(env))).status_code == 404


async def test_a_revoked_tills_token_is_refused_by_the_gateway_at_once(gateway, env) -> None:
    till = await enroll(gateway, env, kind="till", store_id="S001")
    bearer = {"Authorization": f"Bearer {(await exchange(gateway, till['client_id'], till['client_secret'])).json()['access_token']}"}
    assert (await gateway.post("/pos/v1/purchases", json=sale_body(), headers=bearer)).status_code == 202
    assert (await gateway.post(f"/identity/v1/clients/{till['client_id']}/revoke", headers=admin(env))).status_code == 200
    r = await gateway.post("/pos/v1/purchases", json=sale_body(), headers=bearer)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    # Tokens of other tills, and those `crm token` mints, are untouched.
    assert (await gateway.post("/pos/v1/purchases", json=sale_body(), headers=env.auth(Role.POS, store_id="S001"))).status_code == 202


async def test_other_replicas_refuse_it_after_their_next_refresh_and_forget_it_once_no_token_can_be_left(
    env, database_factory, clock,
) -> None:
    url = await database_factory("gateway")
    settings = env.settings(Settings, url, identity_token_ttl_s=900)
    async with service(create_app(settings, clock=clock)) as one, service(create_app(settings, clock=clock)) as two:
        await one.put("/api/v1/stores/S001", json={"name": "store"}, headers=admin(env))
        till = await enroll(one, env, kind="till", store_id="S001")
        bearer = {"Authorization": f"Bearer {(await exchange(one, till['client_id'], till['client_secret'])).json()['access_token']}"}
        await one.post(f"/identity/v1/clients/{till['client_id']}/revoke", headers=admin(env))
        assert (await two.post("/pos/v1/purchases", json=sale_body(), headers=bearer)).status_code == 202  # not yet known

        job = next(j for j in two.app.state.jobs.jobs if j.name == "identity-revocations")
        assert await two.app.state.jobs.run_once(job) == {"newly_revoked": 1, "no_longer_held": 0}
        r = await two.post("/pos/v1/purchases", json=sale_body(), headers=bearer)
        assert r.status_code == 401 and "revoked" in r.json()["detail"]

        clock.now += timedelta(seconds=901)
        assert await two.app.state.jobs.run_once(job, now=clock.now) == {"newly_revoked": 0, "no_longer_held": 1}
        # Nothing changed since: a run that did nothing (logged at DEBUG, not INFO every 30 s).
        assert await two.app.state.jobs.run_once(job, now=clock.now) == {"newly_revoked": 0, "no_longer_held": 0}
    # A replica starting later loads the revocation at start-up while a token may still be alive,
    # and not once none can be.
    async with service(create_app(settings, clock=clock)) as later:
        assert later.app.state.revoked_tills.ids == frozenset()
    clock.now -= timedelta(seconds=901)
    async with service(create_app(settings, clock=clock)) as later:
        assert later.app.state.revoked_tills.ids == {till["client_id"]}
