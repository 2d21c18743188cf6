"""Communities as entities: search, aliases, renames and merges, against SQLite and PostgreSQL."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import HouseholdRow, MemberRow
from members.adapters.tables.infobase import MemberDaySpendRow
from members.adapters.tables.staff import CoverageRow
from shared.auth import Role
from tests.support.factories import line
from tests.support.members import deliver_sale, register

pytestmark = pytest.mark.integration

SALE_AT = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
PAINT = line(sku="paint", qty="1", unit_price="100.00")


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


async def community_of(members, member_id: str) -> tuple[str, str]:
    async with members.app.state.sessions() as s:
        row = (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()
    return row.community_id, row.household_id


async def test_staff_find_communities_by_any_alias_with_member_counts(members, env) -> None:
    await register(members, env, community="阳光花园", address="1幢")
    await register(members, env, community="阳光花园小区", address="2幢")
    await register(members, env, community="翠苑", address="1幢")
    r = await members.get("/v1/communities", params={"q": "阳光"}, headers=env.auth(Role.SERVICE_DESK))
    assert r.status_code == 200
    [found] = r.json()["items"]
    assert (found["name"], found["member_count"], found["household_count"]) == ("阳光花园", 2, 2)
    everything = (await members.get("/v1/communities", headers=env.auth(Role.MARKETING))).json()
    assert everything["total"] == 2 and [c["name"] for c in everything["items"]] == ["阳光花园", "翠苑"]


@pytest.mark.parametrize("q", ["   ", "", "\u200b"])
async def test_a_search_term_that_says_nothing_is_422_not_every_community(members, env, q: str) -> None:
    await register(members, env, community="阳光花园")
    r = await members.get("/v1/communities", params={"q": q}, headers=env.auth(Role.SERVICE_DESK))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", "q"] and "blank" in error["msg"]
    padded = (await members.get("/v1/communities", params={"q": " 阳光 "}, headers=env.auth(Role.SERVICE_DESK))).json()
    assert [c["name"] for c in padded["items"]] == ["阳光花园"]


async def test_a_household_everyone_moved_out_of_is_not_counted(members, env) -> None:
    mover = await register(members, env, community="阳光花园", address="1幢")
    await register(members, env, community="阳光花园", address="2幢")
    r = await members.patch(f"/v1/members/{mover['id']}", json={"community": "翠苑"}, headers=admin(env))
    assert r.status_code == 200, r.text
    found = {c["name"]: c for c in (await members.get("/v1/communities", headers=admin(env))).json()["items"]}
    assert (found["阳光花园"]["member_count"], found["阳光花园"]["household_count"]) == (1, 1)
    assert (found["翠苑"]["member_count"], found["翠苑"]["household_count"]) == (1, 1)


async def test_an_alias_makes_registrations_under_that_name_join_the_community(members, env) -> None:
    first = await register(members, env, community="阳光花园")
    community_id, _ = await community_of(members, first["id"])
    path = f"/v1/communities/{community_id}/aliases"
    r = await members.post(path, json={"alias": "阳光花园一期"}, headers=admin(env))
    assert r.status_code == 201 and "阳光花园一期" in r.json()["aliases"]
    again = await members.post(path, json={"alias": " 阳光花园一期 "}, headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert again.status_code == 200
    later = await register(members, env, community="阳光花园一期")
    assert (await community_of(members, later["id"]))[0] == community_id


async def test_an_alias_of_another_community_is_a_conflict_naming_it(members, env) -> None:
    sun = await register(members, env, community="阳光花园")
    cui = await register(members, env, community="翠苑")
    sun_id, cui_id = (await community_of(members, sun["id"]))[0], (await community_of(members, cui["id"]))[0]
    r = await members.post(f"/v1/communities/{sun_id}/aliases", json={"alias": "翠苑小区"}, headers=admin(env))
    assert r.status_code == 409 and cui_id in r.json()["detail"] and "翠苑" in r.json()["detail"]
    r = await members.post(f"/v1/communities/{sun_id}/aliases", json={"alias": "  "}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "alias"]
    r = await members.post(f"/v1/communities/{sun_id}/aliases", json={"alias": "x"}, headers=env.auth(Role.SERVICE_DESK))
    assert r.status_code == 403


async def test_renaming_keeps_the_old_name_and_answers_to_the_new_one(members, env) -> None:
    m = await register(members, env, community="阳光花园")
    community_id, _ = await community_of(members, m["id"])
    r = await members.patch(f"/v1/communities/{community_id}", json={"name": "阳光花园（东区）"}, headers=admin(env))
    assert r.status_code == 200 and r.json()["name"] == "阳光花园（东区）"
    assert set(r.json()["aliases"]) == {"阳光花园", "阳光花园（东区）"}
    later = await register(members, env, community="阳光花园(东区)")  # half-width brackets: the same key
    assert (await community_of(members, later["id"]))[0] == community_id


async def test_merging_moves_members_households_aliases_spend_and_coverage_once(members, env) -> None:
    a = await register(members, env, community="阳光花园", address="3幢401")
    b_same_home = await register(members, env, community="阳光花园一期", address="3幢 401")
    b_other = await register(members, env, community="阳光花园一期", address="9幢1201")
    await deliver_sale(members, card_no=a["card_no"], lines=[PAINT], occurred_at=SALE_AT)
    await deliver_sale(members, card_no=b_same_home["card_no"], lines=[PAINT], occurred_at=SALE_AT)
    await deliver_sale(members, card_no=b_other["card_no"], lines=[PAINT], occurred_at=SALE_AT)
    a_id, a_home = await community_of(members, a["id"])
    b_id, _ = await community_of(members, b_other["id"])
    async with members.app.state.sessions() as s, s.begin():
        s.add_all([CoverageRow(manager_id="mgr-1", community_id=a_id, created_at=SALE_AT),
                   CoverageRow(manager_id="mgr-1", community_id=b_id, created_at=SALE_AT),
                   CoverageRow(manager_id="mgr-2", community_id=b_id, created_at=SALE_AT)])

    r = await members.post(f"/v1/communities/{a_id}/merge", json={"community_id": b_id}, headers=admin(env))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["members"], out["households_joined"], out["households_moved"], out["aliases"], out["read_model_rows"]) == (2, 1, 1, 1, 2)
    assert out["community"]["member_count"] == 3 and out["community"]["household_count"] == 2
    assert set(out["community"]["aliases"]) == {"阳光花园", "阳光花园一期"}
    assert await community_of(members, b_same_home["id"]) == (a_id, a_home)

    ranked = (await members.get("/v1/infobase/communities", headers=admin(env))).json()["items"]
    assert [(c["name"], c["households"], Decimal(c["spend"])) for c in ranked] == [("阳光花园", 2, Decimal("300.00"))]
    dated = (await members.get("/v1/infobase/communities", params={"from": "2026-11-01"}, headers=admin(env))).json()
    assert [(c["households"], Decimal(c["spend"])) for c in dated["items"]] == [(2, Decimal("300.00"))]
    async with members.app.state.sessions() as s:
        coverage = sorted((c.manager_id, c.community_id) for c in (await s.exec(select(CoverageRow))).all())
        households = (await s.exec(select(HouseholdRow))).all()
        day_rows = (await s.exec(select(MemberDaySpendRow))).all()
    assert coverage == [("mgr-1", a_id), ("mgr-2", a_id)]
    assert {h.community_id for h in households} == {a_id} and len(households) == 2
    assert {(d.community_id, d.household_id) for d in day_rows if d.member_id == b_same_home["id"]} == {(a_id, a_home)}

    again = await members.post(f"/v1/communities/{a_id}/merge", json={"community_id": b_id}, headers=admin(env))
    assert again.status_code == 200 and again.json()["already_merged"] and again.json()["members"] == 0
    followed = await members.get(f"/v1/communities/{b_id}", headers=env.auth(Role.SERVICE_DESK))
    assert followed.status_code == 200 and followed.json()["id"] == a_id
    later = await register(members, env, community="阳光花园一期小区")
    assert (await community_of(members, later["id"]))[0] == a_id


async def test_the_same_merge_asked_for_at_once_is_done_once(members, env) -> None:
    a = await register(members, env, community="阳光花园")
    b = await register(members, env, community="阳光花园一期")
    a_id, b_id = (await community_of(members, a["id"]))[0], (await community_of(members, b["id"]))[0]
    answers = await asyncio.gather(*(
        members.post(f"/v1/communities/{a_id}/merge", json={"community_id": b_id}, headers=admin(env)) for _ in range(6)
    ))
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers if r.status_code != 200]
    assert sorted(r.json()["already_merged"] for r in answers) == [False] + [True] * 5
    assert sum(r.json()["members"] for r in answers) == 1
    assert (await community_of(members, b["id"]))[0] == a_id


async def test_merges_that_cannot_be_done_are_refused_with_the_reason(members, env) -> None:
    ids = []
    for name in ("阳光花园", "翠苑", "湖畔居"):
        m = await register(members, env, community=name)
        ids.append((await community_of(members, m["id"]))[0])
    sun, cui, hu = ids
    r = await members.post(f"/v1/communities/{sun}/merge", json={"community_id": sun}, headers=admin(env))
    assert r.status_code == 422 and "community_id" in r.json()["detail"]
    r = await members.post(f"/v1/communities/{sun}/merge", json={"community_id": "nope"}, headers=admin(env))
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    assert (await members.post(f"/v1/communities/{sun}/merge", json={"community_id": cui}, headers=admin(env))).status_code == 200
    r = await members.post(f"/v1/communities/{hu}/merge", json={"community_id": cui}, headers=admin(env))
    assert r.status_code == 409 and sun in r.json()["detail"]
    r = await members.post(f"/v1/communities/{cui}/merge", json={"community_id": hu}, headers=admin(env))
    assert r.status_code == 409 and sun in r.json()["detail"]
    r = await members.post(f"/v1/communities/{sun}/merge", json={"community_id": hu}, headers=env.auth(Role.ACCOUNT_MANAGER))
    assert r.status_code == 403
