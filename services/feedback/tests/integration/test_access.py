"""Who reaches which customers, complaints and survey links (shared.policy), through the real app.

Two customers, known to feedback through members' events: m-in of store S001 managed by am-1, and
m-out of store S002 managed by am-2 (both VIPs, so their complaints go to their managers).
"""

import pytest

from shared.auth import Role
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

ALL_FIVE = {"product_quality": 5, "service": 4, "price": 3, "store_environment": 5, "after_sales": 2}


async def _two_customers(fb) -> dict[str, dict]:
    await fb.register("m-in", "S001", manager_id="am-1")
    await fb.register("m-out", "S002", manager_id="am-2")
    return {
        "m-in": await fb.file(headers=fb.admin(), member_id="m-in", store_id="S001"),
        "m-out": await fb.file(headers=fb.admin(), member_id="m-out", store_id="S002"),
    }


async def _listed(fb, member_id: str, headers: dict[str, str]):
    return await fb.client.get("/v1/complaints", params={"member_id": member_id}, headers=headers)


# Finding: customers' complaints were readable by any staff role, whoever the customer.

async def test_an_account_manager_reads_the_complaints_of_their_own_customers_only(fb) -> None:
    filed = await _two_customers(fb)
    mine = await _listed(fb, "m-in", fb.as_(Role.ACCOUNT_MANAGER, "am-1"))
    assert mine.status_code == 200 and [c["id"] for c in mine.json()] == [filed["m-in"]["id"]]
    theirs = await _listed(fb, "m-out", fb.as_(Role.ACCOUNT_MANAGER, "am-1"))
    assert theirs.status_code == 403 and "assigned to them" in theirs.json()["detail"]
    assert (await fb.client.get(f"/v1/complaints/{filed['m-out']['id']}", headers=fb.as_(Role.ACCOUNT_MANAGER, "am-1"))).status_code == 403


async def test_marketing_reads_no_customers_complaints(fb) -> None:
    await _two_customers(fb)
    for member_id in ("m-in", "m-out"):
        assert (await _listed(fb, member_id, fb.as_(Role.MARKETING))).status_code == 403


async def test_a_store_manager_reads_the_complaints_of_their_stores_customers_only(fb) -> None:
    await _two_customers(fb)
    assert (await _listed(fb, "m-in", fb.store_manager("S001"))).status_code == 200
    assert (await _listed(fb, "m-out", fb.store_manager("S001"))).status_code == 403


async def test_a_store_bound_token_names_no_other_store_in_a_customers_complaints(fb) -> None:
    # The customer is theirs, their complaint lodged at another store: the archive shows it, but a
    # filter naming that store is refused as it is without a customer (access.md, store_filter).
    await fb.register("m-in", "S001", manager_id="am-1")
    elsewhere = await fb.file(headers=fb.admin(), member_id="m-in", store_id="S002")
    for headers in (fb.store_manager("S001"), fb.desk("S001")):
        assert [c["id"] for c in (await _listed(fb, "m-in", headers)).json()] == [elsewhere["id"]]
        filtered = await fb.client.get("/v1/complaints", params={"member_id": "m-in", "store_id": "S002"}, headers=headers)
        assert filtered.status_code == 403 and "store_id" in filtered.json()["detail"], filtered.text
        own = await fb.client.get("/v1/complaints", params={"member_id": "m-in", "store_id": "S001"}, headers=headers)
        assert own.status_code == 200 and own.json() == []


async def test_an_account_manager_given_a_store_names_no_other_store_in_their_complaints_list(fb) -> None:
    # Bound to their store, as members binds them (`Grant.store_filter`): the filter for another
    # store is refused, not answered with that store's complaints of their customers.
    await fb.register("m-in", "S002", manager_id="am-1")
    await fb.file(headers=fb.admin(), member_id="m-in", store_id="S002")
    bound = fb.as_(Role.ACCOUNT_MANAGER, "am-1", store_id="S001")
    other = await fb.client.get("/v1/complaints", params={"store_id": "S002"}, headers=bound)
    assert other.status_code == 403 and "store_id" in other.json()["detail"], other.text
    assert len((await fb.client.get("/v1/complaints", headers=bound)).json()) == 1
    unbound = await fb.client.get("/v1/complaints", params={"store_id": "S002"}, headers=fb.as_(Role.ACCOUNT_MANAGER, "am-1"))
    assert unbound.status_code == 200 and len(unbound.json()) == 1


async def test_a_home_store_learnt_from_the_analytics_moves_the_customer_to_that_stores_manager(fb) -> None:
    await _two_customers(fb)
    await fb.attributes("m-out", "S001")
    assert (await _listed(fb, "m-out", fb.store_manager("S001"))).status_code == 200
    assert (await _listed(fb, "m-out", fb.store_manager("S002"))).status_code == 403


async def test_a_customer_feedback_never_heard_of_is_404_to_scoped_roles_and_listed_for_the_desk(fb) -> None:
    assert (await _listed(fb, "m-unknown", fb.as_(Role.ACCOUNT_MANAGER, "am-1"))).status_code == 404
    assert (await _listed(fb, "m-unknown", fb.desk())).json() == []


async def test_account_managers_file_only_for_their_own_customers(fb) -> None:
    await _two_customers(fb)
    body = {"category": "price", "severity": "low", "description": "价签错误", "store_id": "S001"}
    am = fb.as_(Role.ACCOUNT_MANAGER, "am-1")
    assert (await fb.client.post("/v1/complaints", json=body | {"member_id": "m-in"}, headers=keyed(am))).status_code == 201
    assert (await fb.client.post("/v1/complaints", json=body | {"member_id": "m-out"}, headers=keyed(am))).status_code == 403


# Finding: complaint-level rules compared roles by hand; they now follow the grant.

async def test_an_account_manager_handles_what_is_assigned_to_them_and_reads_their_customers_complaints(fb) -> None:
    filed = await _two_customers(fb)
    am1, am2 = fb.as_(Role.ACCOUNT_MANAGER, "am-1"), fb.as_(Role.ACCOUNT_MANAGER, "am-2")
    assert filed["m-in"]["assignee"] == "am-1"
    assert (await fb.act(filed["m-in"]["id"], "acknowledge", headers=am2)).status_code == 403
    await fb.ok(filed["m-in"]["id"], "acknowledge", headers=am1)
    await fb.ok(filed["m-in"]["id"], "assign", headers=am1, assignee="desk:S001")
    # Handed to the desk: no longer theirs to handle, still theirs to read (their customer).
    assert (await fb.act(filed["m-in"]["id"], "start", headers=am1)).status_code == 403
    assert (await fb.client.get(f"/v1/complaints/{filed['m-in']['id']}", headers=am1)).status_code == 200
    listed = (await fb.client.get("/v1/complaints", headers=am1)).json()
    assert [c["id"] for c in listed] == [filed["m-in"]["id"]]


async def test_the_desk_and_the_store_manager_share_their_stores_queue_and_head_office_sees_every_store(fb) -> None:
    at_desk = await fb.file()
    handed_up = await fb.file()
    await fb.ok(handed_up["id"], "assign", assignee="store_manager:S001")
    elsewhere = await fb.file(headers=fb.desk("S002"))
    closed = await fb.file(headers=fb.desk("S002"))
    await fb.ok(closed["id"], "acknowledge", headers=fb.desk("S002"))
    await fb.ok(closed["id"], "resolve", headers=fb.desk("S002"), note="已退款")
    for headers in (fb.desk(), fb.store_manager()):
        queue = (await fb.client.get("/v1/complaints/queue", headers=headers)).json()
        assert {c["id"] for c in queue} == {at_desk["id"], handed_up["id"]}
    assert [c["id"] for c in (await fb.client.get("/v1/complaints/queue", headers=fb.desk("S002"))).json()] == [elsewhere["id"]]
    # An admin handles every store's complaints: their queue is every open one (the console's
    # Complaints page of head office).
    everyone = (await fb.client.get("/v1/complaints/queue", headers=fb.admin())).json()
    assert {c["id"] for c in everyone} == {at_desk["id"], handed_up["id"], elsewhere["id"]}
    assert (await fb.client.get("/v1/complaints/queue", headers=fb.as_(Role.STORE_MANAGER, "sm-x"))).status_code == 403


# Finding: survey links were listed to staff and answered by anyone holding them.

async def _invited(fb, member_id: str = "m-in") -> tuple[dict, str]:
    await fb.register(member_id, "S001")
    complaint = await fb.file(member_id=member_id)
    await fb.ok(complaint["id"], "acknowledge")
    resolved = await fb.ok(complaint["id"], "resolve", note="已处理")
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member(member_id))).json()
    return resolved, invitation["link"].rsplit("/", 1)[1]


async def test_only_the_invitations_member_answers_it(fb) -> None:
    _, token = await _invited(fb)
    answer = {"ratings": ALL_FIVE, "nps": 9}
    for headers in (fb.member("m-other"), fb.desk(), fb.admin(), fb.as_(Role.MARKETING), fb.store_manager()):
        assert (await fb.client.get(f"/v1/surveys/answers/{token}", headers=headers)).status_code == 403
        assert (await fb.client.post(f"/v1/surveys/answers/{token}", json=answer, headers=headers)).status_code == 403
    assert (await fb.client.post(f"/v1/surveys/answers/{token}", json=answer)).status_code == 401
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json=answer, headers=fb.member("m-in"))
    assert r.status_code == 201, r.text
    # Another member learns nothing of its state either: still 403, not "already answered".
    assert (await fb.client.post(f"/v1/surveys/answers/{token}", json=answer, headers=fb.member("m-other"))).status_code == 403


async def test_staff_see_that_a_survey_was_sent_but_never_its_link(fb) -> None:
    resolved, token = await _invited(fb)
    assert resolved["survey_link"] is None and resolved["survey"]["source"] == "complaint"
    staff = [fb.desk(), fb.store_manager(), fb.admin(), fb.as_(Role.MARKETING)]
    for headers in staff:
        assert (await fb.client.get("/v1/surveys/invitations", params={"member_id": "m-in"}, headers=headers)).status_code == 403
        sent = await fb.client.get("/v1/surveys/sent", params={"member_id": "m-in"}, headers=headers)
        assert sent.status_code == 200 and [i["id"] for i in sent.json()] == [resolved["survey"]["id"]]
        assert "link" not in sent.json()[0] and token not in sent.text
    # Staff whose reach is not the customer (another store's manager, an account manager not theirs)
    # learn no more of the customer's surveys than of their profile or complaints.
    for headers in (fb.store_manager("S002"), fb.as_(Role.ACCOUNT_MANAGER, "am-1")):
        assert (await fb.client.get("/v1/surveys/sent", params={"member_id": "m-in"}, headers=headers)).status_code == 403
    for headers in (fb.desk(), fb.store_manager(), fb.admin()):
        complaint = await fb.client.get(f"/v1/complaints/{resolved['id']}", headers=headers)
        assert complaint.json()["survey_link"] is None and token not in complaint.text
    own = (await fb.client.get(f"/v1/complaints/{resolved['id']}", headers=fb.member("m-in"))).json()
    assert own["survey_link"].endswith(token)


async def test_an_anonymous_complaint_gets_no_survey_nobody_could_answer(fb) -> None:
    complaint = await fb.file()
    await fb.ok(complaint["id"], "acknowledge")
    resolved = await fb.ok(complaint["id"], "resolve", note="ok")
    assert resolved["survey"] is None


# Finding: an erased member's token could still file complaints.

async def test_an_erased_members_token_is_refused(fb) -> None:
    await fb.register("m-gone", "S001")
    me = fb.member("m-gone")
    await fb.file(headers=me, store_id="S001")
    await fb.erase("m-gone")
    body = {"category": "price", "severity": "low", "description": "x", "store_id": "S001"}
    assert (await fb.client.post("/v1/complaints", json=body, headers=keyed(me))).status_code == 401
    assert (await fb.client.get("/v1/complaints", headers=me)).status_code == 401
    assert (await fb.client.get("/v1/surveys/invitations", headers=me)).status_code == 401


# Finding: a member token without its member_id claim failed open. Another change may refuse such
# a token centrally (401); the policy path refuses it anyway (403).

NO_MEMBER = {"category": "price", "severity": "low", "description": "x", "store_id": "S001"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/v1/complaints", NO_MEMBER),
     ("POST", "/v1/complaints", NO_MEMBER | {"member_id": "m-in"}),
     ("GET", "/v1/complaints", None),
     ("GET", "/v1/complaints/{anonymous}", None),
     ("POST", "/v1/complaints/{anonymous}/reopen", {"reason": "x"}),
     ("GET", "/v1/surveys/invitations", None),
     ("GET", "/v1/surveys/answers/{token}", None),
     ("POST", "/v1/surveys/answers/{token}", {"ratings": ALL_FIVE, "nps": 9})],
)
async def test_a_member_token_without_its_member_is_refused(fb, method, path, body) -> None:
    _, token = await _invited(fb)
    anonymous = await fb.file()
    await fb.ok(anonymous["id"], "acknowledge")
    await fb.ok(anonymous["id"], "resolve", note="ok")
    nobody = fb.as_(Role.MEMBER, "app-nobody")
    r = await fb.client.request(method, path.format(anonymous=anonymous["id"], token=token), json=body, headers=nobody)
    assert r.status_code in (401, 403), r.text
