"""The access policy's decisions, on their own: scopes, store binding, fields."""

import pytest

from shared.auth import Principal, Role
from shared.authorize import Authorize
from shared.policy import POLICY, AccessDenied, Grant, MemberFacts, NotCustomer, Scope

MINE = MemberFacts("m1", home_store_id="S001", manager_id="am-1")
THEIRS = MemberFacts("m2", home_store_id="S002", manager_id="am-2")


def grant(role: Role, action: str = "points.account.read", **claims: str) -> Grant:
    return Grant.of(Principal(subject=claims.pop("subject", f"test-{role}"), role=role, **claims), action)


def test_each_scope_covers_exactly_its_customers() -> None:
    assert grant(Role.ADMIN).covers(THEIRS)
    store = grant(Role.STORE_MANAGER, store_id="S001")
    assert store.covers(MINE) and not store.covers(THEIRS)
    manager = grant(Role.ACCOUNT_MANAGER, subject="am-1")
    assert manager.covers(MINE) and not manager.covers(THEIRS)
    member = grant(Role.MEMBER, member_id="m1")
    assert member.covers(MINE) and not member.covers(THEIRS)


def test_a_store_scope_without_a_store_and_a_self_scope_without_a_member_cover_nobody() -> None:
    assert not grant(Role.STORE_MANAGER).covers(MINE)
    assert not grant(Role.MEMBER).covers(MINE)
    with pytest.raises(AccessDenied):
        grant(Role.MEMBER).ensure_member(None, "m1")


def test_a_role_the_table_does_not_list_may_not_take_the_action() -> None:
    with pytest.raises(AccessDenied, match=r"marketing may not points\.account\.read"):
        grant(Role.MARKETING)
    with pytest.raises(AccessDenied):
        grant(Role.POS)


def test_an_unknown_customer_is_not_found_for_scoped_callers_and_left_to_the_route_for_others() -> None:
    grant(Role.ADMIN).ensure_member(None, "m9")  # the route answers 404 itself
    grant(Role.MEMBER, member_id="m9").ensure_member(None, "m9")  # their own, not yet known here
    with pytest.raises(NotCustomer):
        grant(Role.STORE_MANAGER, store_id="S001").ensure_member(None, "m9")
    with pytest.raises(AccessDenied):
        grant(Role.STORE_MANAGER, store_id="S001").ensure_member(THEIRS, "m2")


def test_a_store_bound_token_acts_only_for_its_store() -> None:
    desk = grant(Role.SERVICE_DESK, "points.redemption.handle", store_id="S001")
    desk.ensure_store("S001")
    with pytest.raises(AccessDenied, match="bound to store S001"):
        desk.ensure_store("S002")
    with pytest.raises(AccessDenied, match="must name its store"):
        grant(Role.STORE_MANAGER, "points.redemption.handle").ensure_store("S001")
    grant(Role.ADMIN, "points.redemption.handle").ensure_store("S002")
    # The same rule as a question, for what a route leaves out rather than refuses.
    assert desk.acts_for_store("S001") and not desk.acts_for_store("S002")
    assert grant(Role.ADMIN, "points.redemption.handle").acts_for_store("S002")


@pytest.mark.parametrize("action", ["members.member.register", "members.member.update"])
def test_a_store_scoped_caller_makes_only_their_own_store_a_customers_home_store(action: str) -> None:
    manager = grant(Role.STORE_MANAGER, action, store_id="S001")
    manager.ensure_home_store("S001")
    with pytest.raises(AccessDenied, match="home_store_id: this token is bound to store S001, not S002"):
        manager.ensure_home_store("S002")
    with pytest.raises(AccessDenied, match="not none"):  # clearing it hands the customer to no store
        manager.ensure_home_store(None)
    with pytest.raises(AccessDenied, match="must name its store"):
        grant(Role.STORE_MANAGER, action).ensure_home_store("S001")
    # Scopes the home store does not bound: a desk serves customers of every store, admins all.
    grant(Role.SERVICE_DESK, action, store_id="S001").ensure_home_store("S002")
    grant(Role.ADMIN, action).ensure_home_store(None)


def test_reports_of_a_store_scoped_caller_cover_their_store_only() -> None:
    manager = grant(Role.STORE_MANAGER, "members.infobase.read", store_id="S001")
    assert manager.store_filter(None) == "S001"
    with pytest.raises(AccessDenied):
        manager.store_filter("S002")
    assert grant(Role.ADMIN, "members.infobase.read").store_filter("S002") == "S002"
    assert grant(Role.ADMIN, "members.infobase.read").store_filter(None) is None


def test_a_store_bound_token_asks_for_no_other_stores_figures_whatever_its_scope() -> None:
    # A desk's scope is every customer (walk-ins of every store), but its token is bound to its
    # store: it does not pull another store's reports by naming that store, any more than a store
    # manager does (`ensure_store`, the same rule for one row).
    desk = grant(Role.SERVICE_DESK, "members.infobase.read", store_id="S001")
    assert desk.store_filter(None) is None
    assert desk.store_filter("S001") == "S001"
    with pytest.raises(AccessDenied, match="bound to store S001, not S002"):
        desk.store_filter("S002")
    with pytest.raises(AccessDenied, match="bound to store S001, not S002"):
        grant(Role.ACCOUNT_MANAGER, "members.infobase.read", subject="am-1", store_id="S001").store_filter("S002")
    assert grant(Role.MARKETING, "members.infobase.read").store_filter("S002") == "S002"


def test_a_list_of_store_rows_is_limited_to_the_store_a_token_is_bound_to() -> None:
    from sqlalchemy import column

    store = column("store_id")
    [own] = grant(Role.SERVICE_DESK, "points.stock.read", store_id="S001").store_rows(store)
    assert str(own.compile(compile_kwargs={"literal_binds": True})) == "store_id = 'S001'"
    assert grant(Role.ADMIN, "points.stock.read").store_rows(store) == []
    [nothing] = grant(Role.STORE_MANAGER, "points.stock.write").store_rows(store)  # a STORE scope naming no store
    assert str(nothing.compile(compile_kwargs={"literal_binds": True})) == "false"


def test_contact_details_are_for_roles_that_need_them_and_the_member_themself() -> None:
    action = "members.member.read"
    assert grant(Role.SERVICE_DESK, action).sees_contact_details("m1")
    assert not grant(Role.MARKETING, action).sees_contact_details("m1")
    assert grant(Role.MEMBER, action, member_id="m1").sees_contact_details("m1")
    assert not grant(Role.MEMBER, action, member_id="m2").sees_contact_details("m1")


def test_every_action_is_named_for_its_service_and_grants_a_real_scope() -> None:
    for action, roles in POLICY.items():
        assert action.split(".")[0] in {"members", "points", "feedback", "campaigns", "gateway", "jobs"}, action
        assert roles and all(isinstance(scope, Scope) for scope in roles.values()), action


def test_a_route_naming_an_action_the_table_lacks_fails_when_it_is_declared() -> None:
    with pytest.raises(KeyError, match=r"points\.acount\.read"):
        Authorize("points.acount.read")


def test_the_table_in_docs_access_md_is_the_policy_in_force() -> None:
    from pathlib import Path

    from shared.policy_doc import render_table

    doc = Path(__file__).parents[3] / "docs" / "access.md"
    assert render_table() in doc.read_text(), "run: python -m shared.policy_doc"


class _Request:
    """What `Authorize` reads of a request: the app's facts look-up and the path's member id."""

    def __init__(self, member_id: str, known: dict[str, MemberFacts]) -> None:
        self.path_params = {"member_id": member_id}
        self.looked_up: list[str] = []

        async def member_facts(wanted: str) -> MemberFacts | None:
            self.looked_up.append(wanted)
            return known.get(wanted)

        self.app = type("App", (), {"state": type("State", (), {"member_facts": staticmethod(member_facts)})()})()


async def test_customer_routes_look_facts_up_only_for_scopes_that_need_them() -> None:
    known = {"m1": MINE, "m2": THEIRS}
    authorize = Authorize("points.account.read")
    desk = Principal(subject="desk", role=Role.SERVICE_DESK, store_id="S001")
    # The desk's scope is every customer: known, unknown or another store's, nothing to look up.
    for member_id in ("m2", "nobody"):
        request = _Request(member_id, known)
        assert (await authorize._grant(request, desk)).scope is Scope.ALL  # type: ignore[arg-type]
        assert request.looked_up == []
    store = Principal(subject="sm", role=Role.STORE_MANAGER, store_id="S001")
    request = _Request("m1", known)
    await authorize._grant(request, store)  # type: ignore[arg-type]
    assert request.looked_up == ["m1"]
    with pytest.raises(AccessDenied):
        await authorize._grant(_Request("m2", known), store)  # type: ignore[arg-type]
    with pytest.raises(NotCustomer):
        await authorize._grant(_Request("nobody", known), store)  # type: ignore[arg-type]
    # A member's own token still has their own record read (an erased member is refused).
    member = Principal(subject="m", role=Role.MEMBER, member_id="m1")
    request = _Request("m1", known)
    await authorize._grant(request, member)  # type: ignore[arg-type]
    assert request.looked_up == ["m1"]
