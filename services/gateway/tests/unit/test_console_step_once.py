"""A step a console page takes on a record (acknowledge a complaint, launch a campaign): taken, or
found taken already (a second click, a colleague a moment earlier), or refused as the service
refused it."""

import httpx
import pytest

from gateway.service_layer.console_reads import ServiceRefused, step_once

pytestmark = pytest.mark.unit


def service(step_answer: httpx.Response, record: dict) -> tuple[httpx.AsyncClient, list[str]]:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path}")
        return step_answer if request.method == "POST" else httpx.Response(200, json=record)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://feedback"), asked


async def take(client: httpx.AsyncClient) -> bool:
    return await step_once(client, "feedback", "/v1/complaints/c-1", "close", {}, taken=lambda item: item["status"] == "closed")


async def test_a_step_taken_now_is_not_taken_already_and_nothing_is_read_again() -> None:
    client, asked = service(httpx.Response(200, json={}), {"status": "resolved"})
    assert await take(client) is False
    assert asked == ["POST /v1/complaints/c-1/close"]


async def test_a_conflict_with_the_record_where_the_step_leads_is_a_step_taken_already() -> None:
    client, asked = service(httpx.Response(409, json={"detail": "it is closed"}), {"status": "closed"})
    assert await take(client) is True
    assert asked == ["POST /v1/complaints/c-1/close", "GET /v1/complaints/c-1"]


@pytest.mark.parametrize(("answer", "record"), [
    (httpx.Response(409, json={"detail": "cannot close a complaint that is filed"}), {"status": "filed"}),  # elsewhere: refused
    (httpx.Response(422, json={"detail": "note: required"}), {"status": "closed"}),  # not a conflict: refused whatever the record
])
async def test_any_other_refusal_is_the_services(answer: httpx.Response, record: dict) -> None:
    client, _ = service(answer, record)
    with pytest.raises(ServiceRefused) as refused:
        await take(client)
    assert refused.value.status_code == answer.status_code
