"""The console's CSRF check (double submit) against a cookie of the same name set for the whole
domain by a sibling host: the browser sends both, and the form is refused whichever it carries."""

import pytest
from starlette.requests import Request

from gateway.api.console.session import FormExpired, console_form

pytestmark = pytest.mark.unit

OURS, TOSSED = "a" * 64, "b" * 64


def _post(cookie: str, csrf: str) -> Request:
    async def receive() -> dict:
        return {"type": "http.request", "body": f"csrf={csrf}&confirm=yes".encode(), "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/console/customers/m-1/erasure", "headers": [
        (b"cookie", cookie.encode()), (b"content-type", b"application/x-www-form-urlencoded")]}, receive)


async def test_a_form_with_the_browser_s_token_passes() -> None:
    form = await console_form(_post(f"crm_console=A|R; crm_console_csrf={OURS}", OURS))
    assert form["confirm"] == ["yes"]


@pytest.mark.parametrize("carried", [OURS, TOSSED])
async def test_a_form_that_comes_with_a_second_csrf_cookie_is_refused(carried: str) -> None:
    with pytest.raises(FormExpired):
        await console_form(_post(f"crm_console=A|R; crm_console_csrf={OURS}; crm_console_csrf={TOSSED}", carried))
