"""Hostile numbers are a 422 naming the field, never a server error."""

import pytest

from shared.auth import Role
from tests.support.backends import on_postgres_only  # noqa: F401  (the module's `backend`: tests/support/backends.py)
from tests.support.factories import keyed

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e309", '"1e309"'])
async def test_a_non_finite_or_huge_rate_is_422(pts, raw: str) -> None:
    body = ('{"effective_from": "2030-01-01T00:00:00+08:00", "channel_rates": {"retail": RAW}, '
            '"reason": "fuzzed rates"}').replace("RAW", raw)
    r = await pts.client.post("/v1/earning-rules", content=body, headers={**pts.env.auth(Role.ADMIN), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:3] == ["body", "channel_rates", "retail"]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e309"])
async def test_a_non_finite_amount_in_a_basket_is_422(pts, raw: str) -> None:
    body = '{"store_id": "S001", "lines": [{"sku": "1", "category": "grain", "amount": RAW}]}'.replace("RAW", raw)
    r = await pts.client.post("/v1/earning/preview", content=body,
                              headers={**pts.env.auth(Role.POS, store_id="S001"), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "lines", 0, "amount"]


async def test_a_ledger_entry_id_beyond_64_bits_is_422(pts) -> None:
    r = await pts.client.get("/v1/accounts/m1/ledger?before_id=99999999999999999999999", headers=pts.desk())
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "before_id"]


async def test_a_gift_price_beyond_64_bits_is_422(pts) -> None:
    body = {"name_zh": "电饭煲", "name_en": "Rice cooker", "prices": {"retail": 99999999999999999999999}}
    r = await pts.client.put("/v1/gifts/rice-cooker", json=body, headers=pts.env.auth(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:3] == ["body", "prices", "retail"]


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
async def test_a_gift_named_only_with_spaces_is_422_naming_the_name(pts, field) -> None:
    body = {"name_zh": "电饭煲", "name_en": "Rice cooker", "prices": {"retail": 100}, field: " \u200b "}
    r = await pts.client.put("/v1/gifts/blank-name", json=body, headers=pts.env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text
    assert "must not be blank" in r.json()["detail"][0]["msg"]


# Finding: a reason of spaces passed `min_length=3` and reached the ledger, which refuses an entry
# without a reason: a 500. Every reason staff write is stripped and must say something.
BLANK_REASONS = [
    ("POST", "/v1/accounts/bi1/adjustments", {"points": 5}),
    ("POST", "/v1/accounts/bi1/bonuses", {"points": 5}),
    ("POST", "/v1/bulk-bonuses", {"member_ids": ["bi1"], "points": 5}),
    ("POST", "/v1/redemptions/no-such-entry/cancel", {}),
    ("POST", "/v1/earning-rules", {"effective_from": "2030-01-01T00:00:00+08:00"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BLANK_REASONS, ids=[p for _, p, _ in BLANK_REASONS])
@pytest.mark.parametrize("reason", ["   ", "\t \n"])
async def test_a_reason_of_whitespace_is_422_naming_the_reason(pts, method: str, path: str, body: dict, reason: str) -> None:
    await pts.apply(pts.registered("bi1"), pts.sale("bi1", "100.00"))
    headers = {**pts.env.auth(Role.ADMIN), "Idempotency-Key": "blank-reason-0001"}
    r = await pts.client.request(method, path, json={**body, "reason": reason}, headers=headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    # Counted once stripped, whitespace is nothing: shorter than the 3 characters a reason needs.
    assert error["loc"] == ["body", "reason"] and "at least 3 characters" in error["msg"]
    assert await pts.balance("bi1") == 100


async def test_a_reason_is_kept_without_the_spaces_around_it_and_counted_without_them(pts) -> None:
    await pts.apply(pts.registered("bi2"))
    admin = pts.env.auth(Role.ADMIN)
    r = await pts.client.post("/v1/accounts/bi2/bonuses", json={"points": 5, "reason": "  goodwill \n"}, headers=keyed(admin))
    assert r.status_code == 201 and r.json()["reason"] == "goodwill"
    short = await pts.client.post("/v1/accounts/bi2/bonuses", json={"points": 5, "reason": "  ok  "}, headers=keyed(admin))
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "reason"]
    assert await pts.balance("bi2") == 5


# Finding: `{"points": true}` booked 1 point. Amounts are JSON integers: a boolean, a string or a
# float is refused where it enters, in every input that carries points (or units of stock).
NOT_INTEGERS = [True, "5", 5.0]
AMOUNTS = [
    ("POST", "/v1/accounts/bi3/adjustments", lambda v: {"points": v, "reason": "bool pts"}, ["body", "points"]),
    ("POST", "/v1/accounts/bi3/bonuses", lambda v: {"points": v, "reason": "bool pts"}, ["body", "points"]),
    ("POST", "/v1/bulk-bonuses", lambda v: {"member_ids": ["bi3"], "points": v, "reason": "bool pts"}, ["body", "points"]),
    ("PUT", "/v1/gifts/vacuum-flask", lambda v: {"name_zh": "保温杯", "name_en": "Vacuum flask", "prices": {"retail": v}},
     ["body", "prices", "retail"]),
    ("PUT", "/v1/gifts/cushion/stock/S001", lambda v: {"quantity": v}, ["body", "quantity"]),
]


@pytest.mark.parametrize(("method", "path", "body", "loc"), AMOUNTS, ids=[p for _, p, _, _ in AMOUNTS])
@pytest.mark.parametrize("value", NOT_INTEGERS, ids=repr)
async def test_an_amount_that_is_not_a_json_integer_is_422(pts, method: str, path: str, body, loc: list, value) -> None:
    await pts.apply(pts.registered("bi3"))
    headers = {**pts.env.auth(Role.ADMIN), "Idempotency-Key": "not-an-integer-0001"}
    r = await pts.client.request(method, path, json=body(value), headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc
    assert await pts.balance("bi3") == 0


@pytest.mark.parametrize("path", ["/v1/accounts/bi4/bonuses", "/v1/bulk-bonuses"])
@pytest.mark.parametrize("points", [-5, 0])
async def test_a_bonus_of_nothing_or_less_is_refused_as_not_greater_than_zero(pts, path: str, points: int) -> None:
    await pts.apply(pts.registered("bi4"))
    body = {"points": points, "reason": "goodwill", **({"member_ids": ["bi4"]} if path == "/v1/bulk-bonuses" else {})}
    r = await pts.client.post(path, json=body, headers={**pts.env.auth(Role.ADMIN), "Idempotency-Key": "bonus-of-nothing-01"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "points"] and error["msg"] == "Input should be greater than 0"


@pytest.mark.parametrize(("query", "field"), [("from=2020-01-01&to=9999-12-31", "to"), ("from=0001-01-01&to=2020-01-01", "from"),
                                              ("from=0&to=2020-01-01", "from")])
async def test_a_gift_register_day_beyond_the_years_a_report_can_span_is_422(pts, query: str, field: str) -> None:
    r = await pts.client.get(f"/v1/gift-register?store_id=S001&{query}", headers=pts.env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize(("method", "path", "body", "params", "field"), [
    ("POST", "/v1/earning-rules", {"effective_from": "9999-12-31T23:59:59-12:00", "reason": "far ahead"}, None, ["body", "effective_from"]),
    ("PUT", "/v1/gifts/far-gift", {"name_zh": "远", "name_en": "Far", "prices": {"retail": 100},
                                   "active_until": "9999-12-31T23:59:59-12:00"}, None, ["body", "active_until"]),
    ("POST", "/v1/jobs/points-expiry/run", None, {"as_of": "0001-01-01T00:00:00+14:00"}, ["query", "as_of"]),
])
async def test_a_moment_at_the_ends_of_the_calendar_is_422_naming_it(pts, method, path, body, params, field) -> None:
    # Stored or compared in UTC it overflowed: a 500, and a job's failed run was not even recorded.
    r = await pts.client.request(method, path, json=body, params=params, headers=pts.env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == field, r.text
    assert "outside the years 1 to 9999" in r.json()["detail"][0]["msg"]


async def test_a_field_a_body_does_not_have_is_422_naming_it_not_dropped(pts) -> None:
    # A typo or a field the endpoint does not take was answered as if it had been applied.
    await pts.apply(pts.registered("uf1"))
    for path, body, loc, headers in (
        ("/v1/accounts/uf1/bonuses", {"points": 5, "reason": "goodwill", "expires_on": "2031-01-01"}, ["body", "expires_on"],
         keyed(pts.env.auth(Role.ADMIN))),
        ("/v1/earning/preview", {"store_id": "S001", "lines": [{"sku": "1", "amount": "10.00", "qty": 2}]},
         ["body", "lines", 0, "qty"], pts.env.auth(Role.POS, store_id="S001")),
    ):
        r = await pts.client.post(path, json=body, headers=headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, r.text
    assert await pts.balance("uf1") == 0


# Finding: a member id longer than the member tables hold was taken into a bulk job, whose chunk
# then failed on every run on PostgreSQL, and the job never finished.
@pytest.mark.parametrize("member_id", ["m" * 37, "", "bad\x00id"], ids=["too long", "empty", "NUL"])
async def test_a_bulk_bonus_names_each_member_by_an_id_it_can_hold(pts, member_id: str) -> None:
    body = {"member_ids": ["bi4", member_id], "points": 5, "reason": "anniversary"}
    headers = {**pts.env.auth(Role.ADMIN), "Idempotency-Key": "bulk-bad-member-0001"}
    r = await pts.client.post("/v1/bulk-bonuses", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "member_ids", 1], r.text
