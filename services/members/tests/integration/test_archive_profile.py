"""Editing a customer's profile: validation, uniqueness, community re-resolution, who may edit what."""

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.domain.profile import MemberUpdate
from members.service_layer.profile import update_profile
from shared.auth import Role
from shared.pseudonyms import phone_hmac
from tests.support.members import deliver_sale, desk, register
from tests.support.platform import PEPPER

pytestmark = pytest.mark.integration


async def edit(members, headers, member_id: str, **body):
    return await members.patch(f"/v1/members/{member_id}", json=body, headers=headers)


async def row_of(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


async def test_the_desk_edits_a_profile_and_only_the_fields_sent_change(members, env) -> None:
    m = await register(members, env, name="王小明", email="old@example.com", birthday="1980-05-01")
    r = await edit(members, desk(env), m["id"], name="王晓明", email=None, gender="male", channel="partner")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["email"], body["gender"], body["channel"]) == ("王晓明", None, "male", "partner")
    assert body["birthday"] == "1980-05-01" and body["phone"] == m["phone"] and body["address"] == m["address"]


async def test_a_new_phone_is_unique_rehashed_and_picks_up_sales_made_with_it(members, env) -> None:
    m = await register(members, env, phone="13700000011")
    await register(members, env, phone="13700000012")
    clash = await edit(members, desk(env), m["id"], phone="13700000012")
    assert clash.status_code == 409 and clash.json()["detail"] == "phone is already registered to another member"
    txn = await deliver_sale(members, phone="13700000013")
    assert (await edit(members, desk(env), m["id"], phone="13700000013")).status_code == 200
    assert (await row_of(members, m["id"])).phone_hmac == phone_hmac("13700000013", PEPPER)
    found = (await members.get("/v1/members", params={"phone": "13700000013"}, headers=desk(env))).json()
    assert [i["id"] for i in found["items"]] == [m["id"]]
    # Typed in groups, as a clerk copies it off a form: the same number.
    grouped = (await members.get("/v1/members", params={"phone": "137 0000 0013"}, headers=desk(env))).json()
    assert [i["id"] for i in grouped["items"]] == [m["id"]]
    assert (await members.get("/v1/members", params={"phone": "13700000011"}, headers=desk(env))).json()["total"] == 0
    purchases = (await members.get(f"/v1/members/{m['id']}/purchases", headers=desk(env))).json()
    assert [p["pos_txn_id"] for p in purchases] == [txn]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_same_new_phone_saved_twice_at_once_is_one_change(members, env) -> None:
    """A double click on the desk's save: the second edit read the profile before the first
    committed, and must find the phone the member's own by then, not someone else's. SQLite runs
    one writer at a time, so only PostgreSQL has the interleaving."""
    m = await register(members, env, phone="13700000021")
    settings = members.app.state.settings
    commands = members.app.state.commands
    async with commands() as second:
        stale = await second.session.get(MemberRow, m["id"])  # read before the first edit commits
        async with commands() as first:
            member = await first.session.get(MemberRow, m["id"])
            await update_profile(first, member, MemberUpdate(phone="13700000022"), settings.resolved_pepper())
        edited = await update_profile(second, stale, MemberUpdate(phone="13700000022"), settings.resolved_pepper())
        assert edited.phone == "13700000022"
    assert (await row_of(members, m["id"])).phone_hmac == phone_hmac("13700000022", PEPPER)


async def test_a_move_re_resolves_community_through_its_aliases_and_the_household(members, env) -> None:
    neighbour = await register(members, env, community="湖畔居", address="湖畔居3幢101")
    m = await register(members, env, community="阳光花园", address="阳光花园1幢202")
    r = await edit(members, desk(env), m["id"], community="湖畔居小区", address="湖畔居 3幢101")
    assert r.status_code == 200 and r.json()["community"] == "湖畔居小区"
    moved, there = await row_of(members, m["id"]), await row_of(members, neighbour["id"])
    assert moved.community_id == there.community_id and moved.household_id == there.household_id
    r = await edit(members, desk(env), m["id"], address="湖畔居5幢808")
    assert r.status_code == 200
    again = await row_of(members, m["id"])
    assert again.community_id == there.community_id and again.household_id != there.household_id


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [("phone", "1380013800", "pattern"), ("name", "  ", "blank"), ("name", None, "may not be null"),
     ("birthday", "2999-01-01", "future"), ("email", "not-an-email", "email"), ("channel", "wholesale", "retail")],
)
async def test_bad_edits_are_422_naming_the_field(members, env, field, value, says) -> None:
    m = await register(members, env)
    r = await edit(members, desk(env), m["id"], **{field: value})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", field] and says in error["msg"]


async def test_a_member_edits_their_own_contact_details_but_not_channel_or_home_store(members, env) -> None:
    m = await register(members, env)
    me = env.auth(Role.MEMBER, member_id=m["id"])
    ok = await edit(members, me, m["id"], email="me@example.com", address=m["address"] + "A")
    assert ok.status_code == 200 and ok.json()["email"] == "me@example.com"
    refused = await edit(members, me, m["id"], channel="partner", home_store_id="S009")
    assert refused.status_code == 403 and "channel, home_store_id" in refused.json()["detail"]
    # A number unproven would take its owner's phone sales, points and sign-in.
    refused = await edit(members, me, m["id"], phone="13700000011")
    assert refused.status_code == 403 and "may not change phone" in refused.json()["detail"]
    assert (await edit(members, env.auth(Role.SERVICE_DESK), m["id"], phone="13700000011")).status_code == 200
    other = await register(members, env)
    assert (await edit(members, me, other["id"], name="x")).status_code == 403


async def test_marketing_and_other_managers_customers_cannot_be_edited(members, env) -> None:
    m = await register(members, env)
    assert (await edit(members, env.auth(Role.MARKETING), m["id"], name="x")).status_code == 403
    assert (await edit(members, env.auth(Role.ACCOUNT_MANAGER), m["id"], name="x")).status_code == 403
    assert (await edit(members, desk(env), "no-such-member", name="x")).status_code == 404


async def test_an_edit_returns_clear_details_and_is_logged(members, env) -> None:
    m = await register(members, env)
    await edit(members, desk(env), m["id"], gender="female")
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=env.auth(Role.ADMIN))).json()
    assert log["items"][0]["purpose"] == "members.update"
