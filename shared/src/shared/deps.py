"""Annotated FastAPI dependencies every service uses (full-stack-fastapi-template's deps.py)."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, cast

from fastapi import Depends, Request

from shared.commands import Commands
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork


async def _uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with request.app.state.commands() as uow:
        yield uow


async def _read_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with request.app.state.commands(read_only=True) as uow:
        yield uow


async def _commands(request: Request) -> Commands:
    return cast(Commands, request.app.state.commands)


async def _settings(request: Request) -> ServiceSettings:
    return cast(ServiceSettings, request.app.state.settings)


async def _now(request: Request) -> datetime:
    # One clock for routes, handlers and jobs; tests replace it to move time.
    return cast(datetime, request.app.state.clock())


# scope="function": the transaction commits before the response is sent, so an answer never
# reports (or shows personal data under) a change or an access-log row that then fails to commit.
UowDep = Annotated[UnitOfWork, Depends(_uow, scope="function")]
# For routes that only read: on SQLite their transaction does not queue for the write lock.
ReadUowDep = Annotated[UnitOfWork, Depends(_read_uow, scope="function")]
# For routes that must answer with the committed result, or retry a command that lost a race.
CommandsDep = Annotated[Commands, Depends(_commands)]
SettingsDep = Annotated[ServiceSettings, Depends(_settings)]
NowDep = Annotated[datetime, Depends(_now)]
