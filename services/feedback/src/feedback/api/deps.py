"""Annotated dependencies of the feedback API: its settings and the injectable clock."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from feedback.config import Settings


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _now(request: Request) -> datetime:
    # One clock for routes, handlers and jobs; tests replace it to move time.
    return request.app.state.clock()


FeedbackSettingsDep = Annotated[Settings, Depends(_settings)]
NowDep = Annotated[datetime, Depends(_now)]
