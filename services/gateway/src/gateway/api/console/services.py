"""The services a console page talks to: the four behind the gateway (its downstream clients),
and the gateway itself, reached in-process through the same routes an outside caller uses."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Request

SERVICES = ("gateway", "members", "points", "feedback", "campaigns")


@asynccontextmanager
async def service_clients(request: Request) -> AsyncIterator[dict[str, httpx.AsyncClient | None]]:
    downstream = request.app.state.downstream
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://gateway") as itself:
        yield {
            "gateway": itself, "members": downstream.members, "points": downstream.points,
            "feedback": getattr(downstream, "feedback", None), "campaigns": getattr(downstream, "campaigns", None),
        }
