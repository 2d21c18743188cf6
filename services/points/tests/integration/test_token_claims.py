"""A till's token must name its store: without store_id the store check had nothing to compare and
any store's basket was previewed."""

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration

BASKET = {"store_id": "S002", "lines": [{"sku": "6901234567890", "category": "grain", "amount": "79.80"}]}


async def test_a_pos_token_without_store_id_is_401_naming_the_claim(pts) -> None:
    r = await pts.client.post("/v1/earning/preview", json=BASKET, headers=pts.env.auth(Role.POS))
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid token: token for role pos must carry claim store_id"


async def test_a_pos_token_previews_only_its_own_store(pts) -> None:
    r = await pts.client.post("/v1/earning/preview", json=BASKET, headers=pts.env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 403
    r = await pts.client.post("/v1/earning/preview", json=BASKET, headers=pts.env.auth(Role.POS, store_id="S002"))
    assert r.status_code == 200, r.text
