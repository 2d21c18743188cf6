"""What `ServiceTokenSource` makes of answers the gateway does not give (a proxy's error page, a
misconfigured URL): a clear error, never a token it cannot use. Its exchange with the real gateway
is tested in services/gateway/tests/integration/test_service_token.py."""

import httpx
import pytest

from shared.service_token import ServiceTokenError, ServiceTokenSource


def answering(response: httpx.Response) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: response))


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(200, text="<html>welcome</html>"), "answered no token"),
    (httpx.Response(200, json={"token_type": "Bearer"}), "answered no token"),
    (httpx.Response(200, json={"access_token": "", "expires_in": 900}), "no usable token"),
    (httpx.Response(200, json={"access_token": "t", "expires_in": 0}), "no usable token"),
    (httpx.Response(404, text="Not Found"), "refused client svc_a: 404 Not Found"),
    (httpx.Response(429, json={"detail": "too many failed attempts; retry later"}), "429 too many failed attempts"),
])
async def test_an_answer_that_is_not_a_token_is_a_clear_error(response, message) -> None:
    async with answering(response) as http:
        with pytest.raises(ServiceTokenError, match=message):
            await ServiceTokenSource("http://identity", "svc_a", "secret", client=http).token()


async def test_a_short_lived_token_is_renewed_halfway_rather_than_after_it_expired() -> None:
    now = [0.0]
    asked = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(now[0])
        return httpx.Response(200, json={"access_token": f"t{len(asked)}", "expires_in": 60})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        tokens = ServiceTokenSource("http://identity", "svc_a", "secret", client=http, monotonic=lambda: now[0])
        assert await tokens.token() == "t1"
        now[0] = 29.0
        assert await tokens.token() == "t1"
        now[0] = 30.0
        assert await tokens.token() == "t2"
    assert asked == [0.0, 30.0]
