"""A load of the demo again (`crm run --demo` once more on the same data directory) adds what is
missing and undoes nothing staff did since: gift counts, account managers' coverage."""

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx

from crm_cli.demo import MANAGERS, STORES, cover_communities, stock_gifts


def test_a_load_again_keeps_the_count_of_a_store_counted_before() -> None:
    # S001 has handed over three of its 30 cushions since the first load: a second `crm run --demo`
    # on the same data directory must not put them back on the shelf.
    puts: list[tuple[str, int]] = []

    def points(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/points/v1/gifts":
            return httpx.Response(200, json=[{"gift_id": "cushion", "prices": {"retail": 10_000, "partner": 8_000}}])
        if request.method == "GET" and request.url.path == "/api/points/v1/gifts/cushion/stock":
            return httpx.Response(200, json=[{"gift_id": "cushion", "store_id": "S001", "quantity": 27, "reserved": 0,
                                              "on_hand": 27, "updated_at": "2026-12-05T21:41:11Z"}])
        if request.method == "PUT" and request.url.path.startswith("/api/points/v1/gifts/cushion/stock/"):
            puts.append((request.url.path.rsplit("/", 1)[1], json.loads(request.content)["quantity"]))
            return httpx.Response(200, json={})
        return httpx.Response(404)

    async def main() -> None:
        async with httpx.AsyncClient(base_url="http://gateway", transport=httpx.MockTransport(points)) as client:
            await stock_gifts(client, {"Authorization": "Bearer admin"})

    asyncio.run(main())
    assert puts == [(store_id, 30) for store_id, _, _ in STORES if store_id != "S001"]


def run_against(
    handler: Callable[[httpx.Request], httpx.Response],
    step: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[None]],
) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(base_url="http://gateway", transport=httpx.MockTransport(handler)) as client:
            await step(client, {"Authorization": "Bearer admin"})

    asyncio.run(main())


def test_a_load_again_covers_only_the_communities_nobody_covers() -> None:
    # 新社区 registered since sorts first: dealt out anew, every community after it got another manager.
    communities = [{"id": "c-new", "name": "一新社区"}, {"id": "c-1", "name": "丽景湾"}, {"id": "c-2", "name": "翠苑一区"}]
    covered: list[tuple[str, str]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/members/v1/staff":
            return httpx.Response(200, json=[
                {"id": MANAGERS[0][0], "active": True, "communities": ["c-1"]},
                {"id": MANAGERS[1][0], "active": True, "communities": ["c-2"]},
            ])
        if request.method == "GET" and request.url.path == "/api/members/v1/communities":
            return httpx.Response(200, json={"items": communities, "total": 3})
        if request.method == "PUT" and "/communities/" in request.url.path:
            parts = request.url.path.split("/")
            covered.append((parts[-3], parts[-1]))
            return httpx.Response(200, json={})
        return httpx.Response(404)

    run_against(gateway, cover_communities)
    assert [community for _, community in covered] == ["c-new"]
