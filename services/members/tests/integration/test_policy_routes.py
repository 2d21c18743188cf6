"""Every members route that names a customer, for every role, with a customer inside and one
outside the caller's scope: the answer follows shared.policy.POLICY, through the real app."""

import pytest
from sqlalchemy import update

from members.adapters.tables import MemberRow
from members.config import Settings
from members.main import create_app
from shared.auth import Role
from tests.support.backends import on_postgres_only  # noqa: F401  (the module's `backend`: tests/support/backends.py)
from tests.support.members import register
from tests.support.policy import customer_routes, expected_access, principal_claims

pytestmark = pytest.mark.integration

# Values for the other path parameters of customer routes.
PATH_VALUES = {"purpose": "marketing_sms"}


def routes() -> list[tuple[str, str, str]]:
    return customer_routes(create_app(Settings(environment="test", jwt_public_key="unused")))


async def customer(members, env, store: str, manager: str) -> str:
    m = await register(members, env, home_store_id=store)
    async with members.app.state.sessions() as s, s.begin():
        await s.exec(update(MemberRow).where(MemberRow.id == m["id"]).values(manager_id=manager))
    return m["id"]


@pytest.mark.parametrize(("method", "path", "action"), routes())
async def test_customer_routes_answer_every_role_as_the_policy_says(members, env, method, path, action) -> None:
    for role in Role:
        ours = await customer(members, env, "S001", "am-1")
        theirs = await customer(members, env, "S002", "am-2")
        claims = principal_claims(role, ours)
        token = env.issuer.mint(claims.pop("subject"), role, **claims)
        may_ours, may_theirs = expected_access(action, role)
        # The customer outside the scope first: an allowed erasure of ours would end the token.
        for member_id, allowed in ((theirs, may_theirs), (ours, may_ours)):
            url = path.format(member_id=member_id, **PATH_VALUES)
            r = await members.request(
                method, url, headers={"Authorization": f"Bearer {token}"}, json={} if method != "GET" else None
            )
            refused = r.status_code == 403
            assert refused != allowed, f"{role} {method} {url} ({action}) answered {r.status_code}: {r.text[:200]}"


async def test_an_erased_members_own_token_is_refused(members, env) -> None:
    m = await register(members, env)
    token = {"Authorization": f"Bearer {env.issuer.mint('app-user', Role.MEMBER, member_id=m['id'])}"}
    assert (await members.get(f"/v1/members/{m['id']}", headers=token)).status_code == 200
    assert (await members.post(f"/v1/members/{m['id']}/erasure", headers=token)).status_code == 200
    after = await members.get(f"/v1/members/{m['id']}", headers=token)
    assert after.status_code == 401 and "erased" in after.json()["detail"]
