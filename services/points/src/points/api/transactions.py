"""Running a command in its own transaction from a route.

Routes that must answer with the committed result (redemptions, bookings with an
Idempotency-Key) commit before they respond. Two retries of one request racing each other: the
loser hits a unique key, and running the command again finds the winner's row and replays it.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

from shared.unit_of_work import UnitOfWork

T = TypeVar("T")


async def run_command(request: Request, command: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    return await request.app.state.commands.run(command, retry_on_conflict=True)
