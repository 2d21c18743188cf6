"""Hostile numbers are a 422 naming the field, never a server error."""

import pytest

from shared.auth import Role

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
