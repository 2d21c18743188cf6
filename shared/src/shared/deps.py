"""Annotated FastAPI dependencies every service uses (full-stack-fastapi-template's deps.py)."""

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request

from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork


async def _uow(request: Request) -> AsyncIterator[UnitOfWork]:
    state = request.app.state
    async with UnitOfWork(state.sessions, state.settings.service_name, state.settings) as uow:
        yield uow
    if uow.emitted:
        state.relay.wake()  # publish now rather than at the next poll


async def _settings(request: Request) -> ServiceSettings:
    return cast(ServiceSettings, request.app.state.settings)


# scope="function": the transaction commits before the response is sent, so an answer never
# reports (or shows personal data under) a change or an access-log row that then fails to commit.
UowDep = Annotated[UnitOfWork, Depends(_uow, scope="function")]
SettingsDep = Annotated[ServiceSettings, Depends(_settings)]
