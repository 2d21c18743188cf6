"""Masking by role and the access log of every read of personal data in clear."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Role
from tests.support.members import desk, register

pytestmark = pytest.mark.integration


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


async def log_of(members, env, **params) -> dict:
    r = await members.get("/v1/privacy/access-log", params=params, headers=admin(env))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_desk_read_in_clear_is_logged_with_who_when_which_member_and_fields(members, env) -> None:
    m = await register(members, env, email="lina@example.com")
    before = datetime.now(UTC)
    r = await members.get(f"/v1/members/{m['id']}", headers=desk(env))
    assert r.status_code == 200 and r.json()["email"] == "lina@example.com"
    log = await log_of(members, env, member_id=m["id"], since=before.isoformat())
    [entry] = log["items"]
    assert entry["actor"] == "test-service_desk" and entry["role"] == "service_desk"
    assert entry["fields"] == ["phone", "address", "email"] and entry["purpose"] == "members.read"
    assert before <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)


async def test_concurrent_profile_reads_are_each_logged_in_shared_transactions(members, env) -> None:
    registered = [await register(members, env) for _ in range(3)]
    writer = members.app.state.access_log
    before, transactions = datetime.now(UTC), writer.transactions
    reads = await asyncio.gather(*(members.get(f"/v1/members/{registered[i % 3]['id']}", headers=desk(env)) for i in range(24)))
    assert [r.status_code for r in reads] == [200] * 24
    # Each answer left after its row was committed: every one is in the log now.
    log = await log_of(members, env, actor="test-service_desk", since=before.isoformat(), limit=100)
    assert log["total"] == 24 and {e["purpose"] for e in log["items"]} == {"members.read"}
    assert sorted({e["member_id"] for e in log["items"]}) == sorted(m["id"] for m in registered)
    assert writer.transactions - transactions < 24  # reads arriving together shared a commit


async def test_marketing_sees_masked_contact_details_and_leaves_no_log_row(members, env) -> None:
    m = await register(members, env, phone="13511112222", email="wang@example.com", address="翠苑一区5幢302")
    before = datetime.now(UTC)
    seen = (await members.get(f"/v1/members/{m['id']}", headers=env.auth(Role.MARKETING))).json()
    assert (seen["phone"], seen["email"], seen["address"]) == ("135****2222", "w***@example.com", "翠苑一区****")
    # Finding the customer behind a phone number would unmask it: marketing may not search by phone.
    found = await members.get("/v1/members", params={"phone": "13511112222"}, headers=env.auth(Role.MARKETING))
    assert found.status_code == 403 and "search_by_phone" in found.json()["detail"]
    assert (await log_of(members, env, member_id=m["id"], since=before.isoformat()))["total"] == 0


async def test_a_search_logs_one_row_per_member_returned_in_clear(members, env) -> None:
    a = await register(members, env, community="丽景湾")
    b = await register(members, env, community="丽景湾")
    await register(members, env, community="湖畔居")
    before = datetime.now(UTC)
    page = (await members.get("/v1/members", params={"community": "丽景湾"}, headers=desk(env))).json()
    assert {i["id"] for i in page["items"]} == {a["id"], b["id"]}
    log = await log_of(members, env, actor="test-service_desk", since=before.isoformat())
    assert sorted(e["member_id"] for e in log["items"]) == sorted([a["id"], b["id"]])
    assert {e["purpose"] for e in log["items"]} == {"members.search"}


async def test_a_member_reading_their_own_profile_is_logged_as_themself(members, env) -> None:
    m = await register(members, env)
    token = env.auth(Role.MEMBER, member_id=m["id"])
    assert (await members.get(f"/v1/members/{m['id']}", headers=token)).status_code == 200
    log = await log_of(members, env, member_id=m["id"], actor="test-member")
    assert [(e["role"], e["purpose"]) for e in log["items"]] == [("member", "members.read")]


async def test_registration_returns_the_details_in_clear_and_logs_that(members, env) -> None:
    m = await register(members, env)
    [entry] = (await log_of(members, env, member_id=m["id"]))["items"]
    assert entry["purpose"] == "members.register" and entry["fields"] == ["phone", "address"]


async def test_the_access_log_is_for_admins_only(members, env) -> None:
    for role in (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.MARKETING, Role.ACCOUNT_MANAGER):
        r = await members.get("/v1/privacy/access-log", headers=env.auth(role, store_id="S001"))
        assert r.status_code == 403
    m = await register(members, env)
    r = await members.get("/v1/privacy/access-log", headers=env.auth(Role.MEMBER, member_id=m["id"]))
    assert r.status_code == 403


async def test_the_access_log_filters_by_time_window_and_pages_newest_first(members, env) -> None:
    m = await register(members, env)
    for _ in range(3):
        await members.get(f"/v1/members/{m['id']}", headers=desk(env))
    everything = await log_of(members, env, member_id=m["id"])
    assert everything["total"] == 4  # the registration and three reads
    times = [e["at"] for e in everything["items"]]
    assert times == sorted(times, reverse=True) and everything["items"][-1]["purpose"] == "members.register"
    page = await log_of(members, env, member_id=m["id"], limit=2, offset=2)
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything["items"][2:4]] and page["total"] == 4
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert (await log_of(members, env, member_id=m["id"], since=later.isoformat()))["total"] == 0
    assert (await log_of(members, env, member_id=m["id"], until=later.isoformat()))["total"] == 4


async def test_bad_access_log_queries_are_422_naming_the_parameter(members, env) -> None:
    r = await members.get("/v1/privacy/access-log", params={"since": "2026-01-01T00:00:00"}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "since"]
    r = await members.get(
        "/v1/privacy/access-log", params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, headers=admin(env)
    )
    assert r.status_code == 422 and "until" in r.json()["detail"]


@pytest.mark.parametrize("name", ["member_id", "actor"])
async def test_an_empty_member_id_or_reader_is_422_not_the_whole_log(members, env, name) -> None:
    # An empty id names nobody: taken for no filter, it answered every member's reads as if they
    # were the one member's (or the one reader's) asked for.
    await register(members, env)
    r = await members.get("/v1/privacy/access-log", params={name: ""}, headers=admin(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", name]


async def test_every_search_by_phone_is_logged_even_a_miss(members, env) -> None:
    m = await register(members, env, phone="13511113333")
    before = datetime.now(UTC)
    hit = await members.get("/v1/members", params={"phone": "13511113333"}, headers=desk(env))
    miss = await members.get("/v1/members", params={"phone": "13599999999"}, headers=desk(env))
    assert hit.json()["total"] == 1 and miss.json()["total"] == 0
    log = await log_of(members, env, actor="test-service_desk", since=before.isoformat())
    searches = [e for e in log["items"] if e["purpose"] == "members.search_by_phone"]
    assert sorted(e["member_id"] for e in searches) == sorted([m["id"], ""])


async def test_searches_by_phone_are_throttled_per_caller(members, env) -> None:
    members.app.state.settings.phone_search_limit = 3
    searches = [
        await members.get("/v1/members", params={"phone": f"1350000000{i}"}, headers=desk(env)) for i in range(4)
    ]
    assert [r.status_code for r in searches] == [200, 200, 200, 429]
    assert "phone" in searches[-1].json()["detail"]
    # Another clerk has their own allowance.
    colleague = {"Authorization": f"Bearer {env.issuer.mint('desk-2', Role.SERVICE_DESK, store_id='S001')}"}
    assert (await members.get("/v1/members", params={"phone": "13500000009"}, headers=colleague)).status_code == 200


async def test_personal_data_never_leaves_when_its_access_log_row_cannot_be_committed(members, env, monkeypatch) -> None:
    m = await register(members, env, phone="13511114444")
    failing = False
    commit = AsyncSession.commit

    async def commit_or_fail(self) -> None:
        if failing:
            raise OperationalError("COMMIT", {}, ConnectionError("database went away"))
        await commit(self)

    monkeypatch.setattr(AsyncSession, "commit", commit_or_fail)
    failing = True
    transport = httpx.ASGITransport(app=members.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get(f"/v1/members/{m['id']}", headers=desk(env))
    failing = False
    # The database went away: a 503 the caller retries (shared.service), with no personal data in it.
    assert r.status_code == 503 and "13511114444" not in r.text
    assert "members database is unavailable" in r.json()["detail"]


async def test_reads_and_phone_searches_are_logged_at_the_service_clock(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app
    from tests.support.platform import service

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    app = create_app(env.settings(Settings, await database_factory("members")), clock=lambda: now)
    async with service(app) as members:
        m = await register(members, env, phone="13522223333")
        assert (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).status_code == 200
        assert (await members.get("/v1/members", params={"phone": "13522223333"}, headers=desk(env))).status_code == 200
        log = await log_of(members, env, member_id=m["id"])
    assert {(e["purpose"], e["at"]) for e in log["items"]} >= {
        ("members.read", "2026-11-23T02:00:00Z"), ("members.search_by_phone", "2026-11-23T02:00:00Z"),
    }
    assert {e["at"] for e in log["items"]} == {"2026-11-23T02:00:00Z"}
