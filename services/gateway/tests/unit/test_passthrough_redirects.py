"""Where a service's redirect points, as the gateway's own address (`passthrough._relocated`)."""

import pytest

from gateway.api.routes.passthrough import _relocated


@pytest.mark.parametrize(("location", "expected"), [
    ("http://points:8002/v1/gifts?store_id=S001", "/api/points/v1/gifts?store_id=S001"),  # the service's own address
    ("/v1/gifts", "/api/points/v1/gifts"),
    ("https://elsewhere.example/v1/gifts", None),  # leaves the service: not the gateway's to say where
    ("v1/gifts", None),  # relative to a path the caller never asked for
])
def test_a_services_redirect_is_put_at_the_gateways_path(location: str, expected: str | None) -> None:
    assert _relocated("/api/points/v1/gifts/", "/v1/gifts/", location, b"points:8002") == expected


def test_a_path_the_gateway_did_not_forward_as_asked_is_not_relocated() -> None:
    assert _relocated("/api/v1/members/", "/v1/other/", "/v1/other", b"members") is None
