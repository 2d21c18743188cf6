"""A store filter through the gateway (the information base and every other forwarded report or list,
and the console's reports) must name one of the chain's stores, which the gateway keeps: the
services have no list of them and would answer an unknown store with zeros."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.console import logged_in
from tests.support.factories import sale_body
from tests.support.identity import MovableClock, admin, answering, gateway_with_stores
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

LEVELS = ["/communities", "/communities/c%3F1/customers", "/members/m%3F1/purchases"]


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.fixture
async def members(gateway: httpx.AsyncClient) -> AsyncIterator[list[httpx.Request]]:
    """Members as it answers a report of a store without sales: zeros. Records what reaches it."""
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 200, "offset": 0, "filters": {}})

    async with answering(gateway, "members", answer) as received:
        yield received


@pytest.mark.parametrize("level", LEVELS)
async def test_an_unknown_store_is_422_naming_store_id_and_never_reaches_members(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv, level: str,
) -> None:
    for params in ({"store_id": "S999"}, [("store_id", "S001"), ("store_id", "S999")], {"store_id": ""}):
        r = await gateway.get(f"/api/members/v1/infobase{level}", params=params, headers=admin(env))
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"].startswith("store_id: ")
    assert r.json()["detail"] == "store_id: empty: name a store, or leave it out for every store"
    r = await gateway.get(f"/api/members/v1/infobase{level}", params={"store_id": "S999"}, headers=admin(env))
    assert r.json()["detail"] == "store_id: unknown store S999"
    assert members == []


@pytest.mark.parametrize("level", LEVELS)
async def test_a_store_of_the_chain_closed_ones_included_or_none_is_forwarded_as_asked(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv, level: str,
) -> None:
    headers = admin(env)
    r = await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False}, headers=headers)
    assert r.status_code == 200, r.text
    for params in ({"store_id": "S001", "from": "2026-11-01", "format": "csv"}, {"store_id": "S002"}, {}):
        r = await gateway.get(f"/api/members/v1/infobase{level}", params=params, headers=headers)
        assert r.status_code == 200, (params, r.text)
    assert [(q.url.raw_path.split(b"?")[0], dict(q.url.params)) for q in members] == [
        (f"/v1/infobase{level}".encode(), {"store_id": "S001", "from": "2026-11-01", "format": "csv"}),
        (f"/v1/infobase{level}".encode(), {"store_id": "S002"}),
        (f"/v1/infobase{level}".encode(), {}),
    ]
    assert members[0].headers["authorization"] == headers["Authorization"]  # the caller's own token


async def test_without_a_token_the_store_is_not_looked_at(gateway: httpx.AsyncClient, members: list[httpx.Request]) -> None:
    r = await gateway.get("/api/members/v1/infobase/communities", params={"store_id": "S999"})
    assert r.status_code == 401
    assert members == []


async def test_a_store_manager_naming_an_unknown_store_is_refused_as_anyone_else(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    r = await gateway.get("/api/members/v1/infobase/communities", params={"store_id": "S999"},
                          headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 422 and r.json()["detail"] == "store_id: unknown store S999"
    assert members == []


async def test_the_consoles_information_base_refuses_an_unknown_store_instead_of_showing_zeros(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    for path, params in (("/console/infobase", {}), ("/console/infobase/communities/c-1", {}),
                         ("/console/infobase/members/m-1", {}), ("/console/infobase/export", {"level": "communities"}),
                         ("/console/tracking/report", {}), ("/console/evaluations", {})):
        r = await gateway.get(path, params={**params, "store_id": "S999"})
        assert r.status_code == 422, (path, r.text)
        assert "S999" in r.text, r.text[r.text.find("<main"):]
    assert members == []
    r = await gateway.get("/console/infobase", params={"store_id": "S001"})
    assert r.status_code == 200, r.text
    assert [request.url.params["store_id"] for request in members] == ["S001"]


@pytest.mark.parametrize("path", ["/api/members/v1/tracking/reports/daily", "/api/feedback/v1/surveys/results",
                                  "/api/points/v1/gift-register"])
async def test_any_forwarded_report_or_list_refuses_an_unknown_store(gateway: httpx.AsyncClient, env: TestEnv, path: str) -> None:
    r = await gateway.get(path, params={"store_id": "S999"}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"] == "store_id: unknown store S999", r.text


async def test_a_gifts_stock_at_a_store_nobody_has_is_refused_before_points_sees_it(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    # Counted there, the units could never be handed out: no till nor desk works at such a store.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"gift_id": "mug", "store_id": "S001", "quantity": 2})

    async with answering(gateway, "points", answer) as points:
        for store in ("S999", "S%39%39%39"):  # the id written with escapes is the same id
            r = await gateway.put(f"/api/points/v1/gifts/mug/stock/{store}", json={"quantity": 2}, headers=admin(env))
            assert (r.status_code, r.json()["detail"]) == (422, "store_id: unknown store S999"), r.text
        assert points == []
        r = await gateway.put("/api/points/v1/gifts/mug/stock/S001", json={"quantity": 2}, headers=admin(env))
        assert r.status_code == 200 and [request.url.path for request in points] == ["/v1/gifts/mug/stock/S001"]


async def test_a_home_store_nobody_has_or_closed_is_refused_before_members_sees_it(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    # Homed there, the customer was outside every store manager's reach and could never pick up a gift.
    desk = env.auth(Role.SERVICE_DESK, store_id="S001")
    assert (await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False},
                              headers=admin(env))).status_code == 200
    for method, path in (("POST", "/api/v1/members"), ("PATCH", "/api/members/v1/members/m-1")):
        for home in ("S999", "S002"):
            r = await gateway.request(method, path, json={"name": "赵敏", "home_store_id": home}, headers=desk)
            assert r.status_code == 422, r.text
            assert r.json()["detail"] == [{"loc": ["body", "home_store_id"], "msg": f"unknown or inactive store {home}",
                                           "type": "value_error", "input": None}]
    # The key written with a JSON escape is the same key.
    escaped = await gateway.patch("/api/members/v1/members/m-1", content=b'{"home\\u005fstore_id": "S999"}',
                                  headers={**desk, "Content-Type": "application/json"})
    assert escaped.status_code == 422 and escaped.json()["detail"][0]["loc"] == ["body", "home_store_id"], escaped.text
    # Members reads the body as JSON with the type in capitals, or with none: so does the check.
    for typed in ({"Content-Type": "application/JSON"}, {"Content-Type": "Application/Json; charset=utf-8"}, {}):
        for method, path in (("POST", "/api/v1/members"), ("PATCH", "/api/members/v1/members/m-1")):
            r = await gateway.request(method, path, content=json.dumps({"name": "赵敏", "home_store_id": "S999"}).encode(),
                                      headers={**desk, **typed})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "home_store_id"], (typed, r.text)
    assert members == []
    r = await gateway.patch("/api/members/v1/members/m-1", json={"home_store_id": "S001"}, headers=desk)
    assert r.status_code == 200 and len(members) == 1
    # A value that is no store id at all (a NUL, a number) is members' to refuse by its own rules,
    # not a look-up the database fails on.
    for odd in ("S\x001", 17):
        r = await gateway.patch("/api/members/v1/members/m-1", json={"home_store_id": odd}, headers=desk)
        assert r.status_code == 200, r.text
    assert [json.loads(request.content)["home_store_id"] for request in members[1:]] == ["S\x001", 17]


async def test_a_store_nobody_has_named_in_a_forwarded_body_is_refused_before_the_service_sees_it(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    # Recorded as it came, staff "at S999" would be nobody's and a complaint about it nobody's to handle.
    staff = {"id": "am-s999-li", "name": "李明", "role": "account_manager", "store_id": "S999"}
    r = await gateway.post("/api/members/v1/staff", json=staff, headers=admin(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"loc": ["body", "store_id"], "msg": "unknown store S999", "type": "value_error", "input": None}]
    assert members == []
    # A store of the chain, a closed one too (where something was, not where it happens now), goes through.
    assert (await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False},
                              headers=admin(env))).status_code == 200
    for store in ("S001", "S002"):
        r = await gateway.post("/api/members/v1/staff", json={**staff, "store_id": store}, headers=admin(env))
        assert r.status_code == 200, r.text
    assert [json.loads(request.content)["store_id"] for request in members] == ["S001", "S002"]


async def test_a_store_nobody_has_anywhere_in_a_forwarded_body_is_refused_at_its_place(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    """An import of past sales names a store per sale: one mistyped would put its spend under a
    store nobody has, which every report's filter then refuses to show."""
    sale = {"pos_txn_id": "OLD-1", "occurred_at": "2025-03-01T10:15:00+08:00", "total": "12.50"}
    body = {"points": "none", "sales": [{**sale, "store_id": "S001"}, {**sale, "pos_txn_id": "OLD-2", "store_id": "ZZZ"},
                                        {**sale, "pos_txn_id": "OLD-3", "store_id": "ZZZ"}]}
    r = await gateway.post("/api/members/v1/sales/import", json=body, headers=admin(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"loc": ["body", "sales", 1, "store_id"], "msg": "unknown store ZZZ", "type": "value_error",
                                   "input": None}]
    assert members == []
    body["sales"] = body["sales"][:1]
    assert (await gateway.post("/api/members/v1/sales/import", json=body, headers=admin(env))).status_code == 200
    assert len(members) == 1


async def test_the_printed_information_base_names_the_store_members_answered_for(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    # A store manager leaves the store empty: members answers for their own store, and so says the paper.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 200, "offset": 0, "filters": {"store_id": "S001"}})

    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    async with answering(gateway, "members", answer):
        page = await gateway.get("/console/infobase")
    assert page.status_code == 200, page.text
    printed = page.text.split('<p class="print-only">')[1].split("</p>")[0]
    assert printed.startswith("门店：S001") and "全部门店" not in printed, printed


async def test_a_store_seen_open_is_read_again_once_closed_here_or_once_its_time_is_up(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    """Each replica remembers the stores it saw open (`OpenStores`) for `open_store_ttl_s`, for a
    registration's home store as for a till's sale: the one that closes a store refuses it at once;
    another takes it for open until its time is up."""
    desk, till = env.auth(Role.SERVICE_DESK, store_id="S001"), env.auth(Role.POS, store_id="S002")
    registration = {"name": "赵敏", "home_store_id": "S002"}

    async def replica(ttl_s: float) -> AsyncIterator[httpx.AsyncClient]:
        settings = env.settings(Settings, gateway.app.state.settings.database_url, open_store_ttl_s=ttl_s)
        async with service(create_app(settings)) as other:
            wired = other.app.state.downstream
            other.app.state.downstream = replace(wired, members=gateway.app.state.downstream.members)
            yield other
            other.app.state.downstream = wired  # closed by its own shutdown

    async with asynccontextmanager(replica)(300) as remembering, asynccontextmanager(replica)(0) as reading:
        for client in (gateway, remembering, reading):
            assert (await client.post("/api/v1/members", json=registration, headers=desk)).status_code == 200
            assert (await client.post("/pos/v1/purchases", json=sale_body("S002"), headers=till)).status_code == 202
        assert len(members) == 3
        closed = await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False}, headers=admin(env))
        assert closed.status_code == 200
        for client in (gateway, reading):
            r = await client.post("/api/v1/members", json=registration, headers=desk)
            assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "unknown or inactive store S002", r.text
            r = await client.post("/pos/v1/purchases", json=sale_body("S002"), headers=till)
            assert r.status_code == 422 and "S002" in r.text, r.text
        assert (await remembering.post("/api/v1/members", json=registration, headers=desk)).status_code == 200
        assert (await remembering.post("/pos/v1/purchases", json=sale_body("S002"), headers=till)).status_code == 202
        assert len(members) == 4


async def test_the_gateways_own_routes_refuse_a_parameter_they_do_not_take_and_forwarding_ones_pass_it_on(
    gateway: httpx.AsyncClient, members: list[httpx.Request], env: TestEnv,
) -> None:
    # A misspelt filter answered the whole list: every staff account for `?store=`, every client for `?kin=`.
    for path, name in (("/identity/v1/staff", "store"), ("/identity/v1/clients", "kin"), ("/api/v1/stores", "foo")):
        r = await gateway.get(path, params={name: "S002"}, headers=admin(env))
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", name] and r.json()["detail"][0]["type"] == "extra_forbidden"
    # Forwarded, a parameter is the service's to judge; the console reads its pages' own.
    assert (await gateway.get("/api/members/v1/communities", params={"qq": "x"}, headers=admin(env))).status_code == 200
    assert (await gateway.get("/api/v1/members", params={"qq": "x"}, headers=admin(env))).status_code == 200
    assert [dict(request.url.params) for request in members] == [{"qq": "x"}, {"qq": "x"}]
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    assert (await gateway.get("/console/infobase", params={"qq": "x"})).status_code == 200


async def test_a_segment_rule_naming_a_home_store_nobody_has_is_refused_at_its_place_at_any_depth(
    gateway: httpx.AsyncClient, env: TestEnv,
) -> None:
    """Campaigns checks a store id's format only: a segment of "S999", or of "s001" typed in lower
    case, would be saved and launched to nobody without a word."""
    marketing = env.auth(Role.MARKETING)
    nested = {"and": [{"field": "tier", "op": "in", "value": ["gold"]},
                      {"or": [{"not": {"field": "home_store", "op": "in", "value": ["S001", "s001"]}},
                              {"field": "home_store", "op": "in", "value": ["S002"]}]}]}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": "seg-1"})

    async with answering(gateway, "campaigns", answer) as campaigns:
        for path in ("/api/campaigns/v1/segments", "/api/campaigns/v1/segments/preview"):
            r = await gateway.post(path, json={"name": "gold", "rule": nested}, headers=marketing)
            assert r.status_code == 422, r.text
            assert r.json()["detail"] == [{"loc": ["body", "rule", "and", 1, "or", 0, "not", "value", 1],
                                           "msg": "unknown store s001", "type": "value_error", "input": None}]
        assert campaigns == []
        # The chain's stores, a closed one too (its customers are still homed there), go through.
        assert (await gateway.put("/api/v1/stores/S002", json={"name": "store S002", "active": False},
                                  headers=admin(env))).status_code == 200
        nested["and"][1]["or"][0]["not"]["value"] = ["S001"]
        r = await gateway.post("/api/campaigns/v1/segments", json={"name": "gold", "rule": nested}, headers=marketing)
        assert r.status_code == 201, r.text
        assert [json.loads(request.content)["rule"] for request in campaigns] == [nested]
