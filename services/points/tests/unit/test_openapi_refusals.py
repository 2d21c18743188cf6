"""What /docs says a booking may be refused with: an integrator reads the 409s there."""

import pytest

from tests.contracts.test_access_policy import app_of


@pytest.mark.parametrize(("path", "words"), [
    ("/v1/accounts/{member_id}/adjustments", ("another amount or reason", "NotEnoughPoints", "erased")),
    ("/v1/accounts/{member_id}/bonuses", ("another amount or reason", "erased")),
    ("/v1/redemptions", ("Too few points", "store closed", "erased", "key reused")),
])
def test_the_409s_of_a_booking_are_described(tmp_path, path, words) -> None:
    conflict = app_of("points", tmp_path).openapi()["paths"][path]["post"]["responses"].get("409")
    assert conflict is not None, f"{path} documents no 409"
    assert all(word in conflict["description"] for word in words), conflict["description"]
