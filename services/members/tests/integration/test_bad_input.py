"""Hostile values are a 422 naming the field, never a server error (NUL is refused by PostgreSQL
text columns; integers beyond 64 bits by both drivers; year 0000 by Python's dates)."""

import pytest

from tests.support.backends import on_postgres_only  # noqa: F401  (the module's `backend`: tests/support/backends.py)
from tests.support.factories import member_body
from tests.support.members import desk
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("field", ["name", "community", "address"])
@pytest.mark.parametrize("bad", ["王\u0000小明", "王\ud800"])
async def test_nul_or_a_lone_surrogate_in_free_text_is_422_naming_the_field(members, env: TestEnv, field: str, bad: str) -> None:
    body = member_body(**{field: bad})
    r = await members.post("/v1/members", content=_ascii_json(body), headers={**desk(env), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("query", ["offset=99999999999999999999999", "limit=99999999999999999999999"])
async def test_integers_beyond_64_bits_in_a_query_are_422(members, env: TestEnv, query: str) -> None:
    for path in ("/v1/members", "/v1/infobase/communities"):
        r = await members.get(f"{path}?{query}", headers=desk(env))
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", query.split("=")[0]]


@pytest.mark.parametrize("query", ["managers/monthly?month=0000-01", "managers/quarterly?quarter=0000-Q1",
                                   "managers/monthly?month=9999-12", "managers/quarterly?quarter=9999-Q4",
                                   # Full-width digits: a period is written in ASCII digits, as everywhere else.
                                   "managers/monthly?month=２０２６-01", "managers/quarterly?quarter=２０２６-Q1"])
async def test_year_zero_in_a_report_period_is_422(members, env: TestEnv, query: str) -> None:
    from shared.auth import Role

    r = await members.get(f"/v1/evaluations/{query}", headers=env.auth(Role.ADMIN))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("url", ["/v1/members?name=%E7%8E%8B%00", "/v1/members?community=a%00", "/v1/members/m%001"])
async def test_nul_in_a_search_term_or_an_id_is_422_not_a_database_error(members, env: TestEnv, url: str) -> None:
    r = await members.get(url, headers=desk(env))
    assert r.status_code == 422, r.text


# An empty id names nothing: taken for "no filter", it answered every store's or manager's rows as
# if they were the ones asked for.
@pytest.mark.parametrize(("url", "field"), [
    ("/v1/infobase/communities?store_id=", "store_id"),
    ("/v1/evaluations/managers/monthly?month=2026-10&store_id=", "store_id"),
    ("/v1/evaluations/managers/quarterly?quarter=2026-Q4&store_id=", "store_id"),
    ("/v1/staff?store_id=", "store_id"),
    ("/v1/tracking/unassigned-vips?store_id=", "store_id"),
    ("/v1/tracking/reports/daily?date=2026-11-23&store_id=", "store_id"),
    ("/v1/tracking/reports/daily?date=2026-11-23&manager_id=", "manager_id"),
    ("/v1/tracking/queue?manager_id=", "manager_id"),
])
async def test_an_empty_id_filter_is_422_naming_it_not_every_record(members, env: TestEnv, url: str, field: str) -> None:
    from shared.auth import Role

    r = await members.get(url, headers=env.auth(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", field]


def _ascii_json(body: dict) -> bytes:
    import json

    return json.dumps(body).encode()  # \u escapes, as a client would send them


@pytest.mark.parametrize(("query", "field"), [
    ("from=0001-01-01", "from"), ("to=9999-12-31", "to"), ("from=2026-01-01&to=9999-12-31", "to"),
])
async def test_a_report_day_beyond_the_years_a_report_can_span_is_422(members, env: TestEnv, query: str, field: str) -> None:
    from shared.auth import Role

    r = await members.get(f"/v1/infobase/communities?{query}", headers=env.auth(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("home", ["", " ", "不存在的门店", "S 001", "S001\u0000"])
async def test_a_home_store_that_is_no_store_id_is_422_naming_it_at_registration_and_edit(members, env: TestEnv, home: str) -> None:
    # Events carry the home store as a store id: one stored in any other form made every later
    # edit of the member a server error, when its announcement was refused.
    r = await members.post("/v1/members", json=member_body(home_store_id=home), headers=desk(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "home_store_id"], r.text
    r = await members.post("/v1/members", json=member_body(), headers=desk(env))
    assert r.status_code == 201, r.text
    r = await members.patch(f"/v1/members/{r.json()['id']}", json={"home_store_id": home}, headers=desk(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "home_store_id"], r.text
