"""Account managers are named on the console whether or not they have a console login: an id no
staff account names is looked up in members' staff directory, with the reader's own token and in
one read for the whole page; an id neither knows, or every such id while members cannot answer,
is shown as the id, and the page is shown all the same."""

import re
from typing import Any

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.service_layer.console_people import StaffDirectory, display_names
from shared.auth import Principal, Role
from tests.support.console import logged_in
from tests.support.identity import MovableClock, admin, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

PROFILE = {"id": "m-1", "name": "赵敏", "card_no": "8800000000001", "home_store_id": "S002", "manager_id": "am-s002-zhou",
           "tier": "vip", "birthday": "1980-12-24", "erased": False, "lifetime_spend": "5000.00", "purchase_count": 1,
           "phone": "139****0001", "phone_masked": True, "community": "阳光花园", "address": "1幢", "created_at": "2026-01-02T03:00:00Z"}


def staff(staff_id: str, name: str) -> dict[str, Any]:
    """An entry of members' staff directory as `GET /v1/staff` answers it."""
    return {"id": staff_id, "name": name, "work_phone": "021-5550001", "store_id": "S002", "role": "account_manager",
            "active": True, "communities": [], "customers": 3, "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"}


DIRECTORY = [staff("am-s002-sun", "孙强"), staff("am-s002-zhou", "周丽"), staff("am-017", "周丽丽")]


def _contact(manager_id: str, tracked_on: str) -> dict[str, Any]:
    return {"tracked_on": tracked_on, "manager_id": manager_id, "contact": "本人", "method": "phone", "rating": 4,
            "notes": "", "next_follow_up_on": None}


def _members(profile: dict[str, Any], contacts: list[dict[str, Any]], directory: Any,
             asked: list[httpx.Request]) -> httpx.AsyncClient:
    """Members answering the customer's overview, their tracking contacts, and its staff directory
    by `directory` (the request to answer, or an exception to raise as a connection failure)."""
    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path = request.url.path
        if path.startswith("/v1/staff"):
            if isinstance(directory, Exception):
                raise directory
            return directory(request)
        if path == "/v1/tracking/members/m-1/records":
            return httpx.Response(200, json=contacts)
        assert path == "/v1/members/m-1/overview", path
        return httpx.Response(200, json={"member": profile, "recent_purchases": []})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://members")


def _directory_of(entries: list[dict[str, Any]]) -> Any:
    """Members' staff directory as it answers the list and one entry (404 for an id it lacks)."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/staff":
            return httpx.Response(200, json=entries)
        staff_id = request.url.path.rsplit("/", 1)[-1]
        found = [e for e in entries if e["id"] == staff_id]
        return httpx.Response(200, json=found[0]) if found else httpx.Response(404, json={"detail": f"no staff member {staff_id}"})
    return answer


def _downstream(members: httpx.AsyncClient) -> Downstream:
    def service(answer: httpx.Response) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(lambda _: answer), base_url="http://service")

    return Downstream(members=members, points=service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
                      feedback=service(httpx.Response(200, json=[])),
                      campaigns=service(httpx.Response(200, json={"coupons": [], "messages": []})))


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def _manager_line(html: str) -> str:
    found = re.search(r'<th scope="row">客户经理</th><td>(.*?)</td>', html)
    assert found, html[html.find("<main"):]
    return found.group(1)


def _contact_rows(html: str) -> list[str]:
    return html.split('id="contacts"')[1].split("</table>")[0].split("<tbody>")[1].split("</tr>")[:-1]


def _staff_reads(asked: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in asked if r.url.path.startswith("/v1/staff")]


async def test_a_manager_without_a_console_login_is_named_from_members_directory(gateway, env) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S002")
    asked: list[httpx.Request] = []
    gateway.app.state.downstream = _downstream(_members(
        PROFILE, [_contact("am-s002-zhou", "2026-12-01")], _directory_of(DIRECTORY), asked))

    page = await gateway.get("/console/customers/m-1")

    assert page.status_code == 200, page.text
    assert _manager_line(page.text) == "周丽"
    assert "<td>2026-12-01</td><td>周丽</td>" in _contact_rows(page.text)[0]
    assert "am-s002-zhou" not in page.text.split("<main")[1]
    # One person to name: their own entry, read with the store manager's own token.
    (read,) = _staff_reads(asked)
    assert read.url.path == "/v1/staff/am-s002-zhou"
    assert read.headers["Authorization"].startswith("Bearer ")


async def test_the_ids_a_page_needs_are_named_in_one_read_and_one_members_lacks_stays_an_id(gateway, env) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S002")
    asked: list[httpx.Request] = []
    contacts = [_contact("am-s002-zhou", "2026-12-01"), _contact("am-s002-sun", "2026-11-20"), _contact("am-gone", "2026-10-02")]
    gateway.app.state.downstream = _downstream(_members(PROFILE, contacts, _directory_of(DIRECTORY), asked))

    page = await gateway.get("/console/customers/m-1")

    assert page.status_code == 200, page.text
    assert _manager_line(page.text) == "周丽"
    rows = _contact_rows(page.text)
    assert "<td>周丽</td>" in rows[0] and "<td>孙强</td>" in rows[1] and "<td>am-gone</td>" in rows[2]
    assert [r.url.path for r in _staff_reads(asked)] == ["/v1/staff"]


async def test_a_manager_with_a_console_login_is_named_by_their_account_without_asking_members(gateway, env) -> None:
    r = await gateway.post("/identity/v1/staff", headers=admin(env), json={
        "login": "zhou.am", "name": "周经理", "role": "account_manager", "store_id": "S002", "account_manager_id": "am-017"})
    assert r.status_code == 201, r.text
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S002")
    asked: list[httpx.Request] = []
    gateway.app.state.downstream = _downstream(_members(
        {**PROFILE, "manager_id": "am-017"}, [_contact("am-017", "2026-12-01")], _directory_of(DIRECTORY), asked))

    page = await gateway.get("/console/customers/m-1")

    assert page.status_code == 200, page.text
    assert _manager_line(page.text) == "周经理"
    assert "<td>周经理</td>" in _contact_rows(page.text)[0]
    assert _staff_reads(asked) == []


@pytest.mark.parametrize("directory", [
    lambda _: httpx.Response(503, json={"detail": "starting"}),
    lambda _: httpx.Response(500, json={"detail": "members failed"}),
    httpx.ConnectError("connection refused"),
    lambda _: httpx.Response(200, json={"unexpected": "shape"}),
], ids=["unavailable", "failed", "unreachable", "not-a-directory"])
async def test_while_members_directory_cannot_answer_the_page_shows_the_ids(gateway, env, directory) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S002")
    asked: list[httpx.Request] = []
    contacts = [_contact("am-s002-zhou", "2026-12-01"), _contact("am-s002-sun", "2026-11-20")]
    gateway.app.state.downstream = _downstream(_members(PROFILE, contacts, directory, asked))

    page = await gateway.get("/console/customers/m-1")

    assert page.status_code == 200, page.text
    assert _manager_line(page.text) == "am-s002-zhou"
    rows = _contact_rows(page.text)
    assert "<td>am-s002-zhou</td>" in rows[0] and "<td>am-s002-sun</td>" in rows[1]
    assert 'id="profile"' in page.text  # the rest of the page as members answered it
    assert len(_staff_reads(asked)) == 1


async def test_a_manager_of_another_store_members_does_not_show_the_reader_stays_an_id(gateway, env) -> None:
    await logged_in(gateway, env, "li.sm", "store_manager", store_id="S001")
    asked: list[httpx.Request] = []
    refused = httpx.Response(403, json={"detail": "store_id: store_manager may only see their own store S001 (members.staff.read)"})
    gateway.app.state.downstream = _downstream(_members(PROFILE, [], lambda _: refused, asked))

    page = await gateway.get("/console/customers/m-1")

    assert page.status_code == 200, page.text
    assert _manager_line(page.text) == "am-s002-zhou"


async def test_a_role_members_directory_is_closed_to_is_not_sent_there(gateway) -> None:
    asked: list[httpx.Request] = []
    members = _members(PROFILE, [], _directory_of(DIRECTORY), asked)
    marketing = StaffDirectory(members, Principal(subject="stf_mkt", role=Role.MARKETING), {"Authorization": "Bearer t"})
    desk = StaffDirectory(members, Principal(subject="stf_desk", role=Role.SERVICE_DESK, store_id="S002"), {"Authorization": "Bearer t"})
    async with gateway.app.state.commands() as uow:
        assert await display_names(uow, ["am-s002-zhou"], marketing) == {}
        assert asked == []
        # Feedback's queues and the services' own actors are no one's id: not looked up.
        names = await display_names(uow, ["am-s002-zhou", "am-s002-sun", "desk:S002", "system", "system:escalation"], desk)
    assert names == {"am-s002-zhou": "周丽", "am-s002-sun": "孙强"}
    assert [r.url.path for r in asked] == ["/v1/staff"]


async def test_a_complaint_assigned_to_a_manager_without_a_console_login_names_them(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S002")
    item = {"id": "c-1", "category": "delivery", "status": "in_progress", "severity": "high", "store_id": "S002",
            "filed_at": "2026-12-05T01:00:00+00:00", "channel": "service_desk", "member_id": None, "assignee": "am-s002-zhou",
            "escalated_to": None, "next_due_at": None, "overdue": False, "description": "瓷砖送货晚了一天",
            "history": [{"action": "assigned", "from_status": None, "to_status": None, "actor": "system",
                         "detail": "to am-s002-zhou", "at": "2026-12-05T01:00:00+00:00"}]}
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=item)), \
            answering(gateway, "members", _directory_of(DIRECTORY)) as asked:
        page = await gateway.get("/console/complaints/c-1")

    assert page.status_code == 200, page.text
    assert '<td id="assignee">周丽</td>' in page.text
    # Its history's routing step names the same person, and the system's own actor is not looked up.
    assert "周丽" in page.text.split('<table id="history">')[1] and "自动分派" in page.text
    assert [r.url.path for r in asked] == ["/v1/staff/am-s002-zhou"]
