"""Annotated dependencies of the feedback API beyond the shared ones (`shared.deps`: NowDep, UowDep)."""

from typing import Annotated

from fastapi import Depends, Request

from feedback.config import Settings


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


FeedbackSettingsDep = Annotated[Settings, Depends(_settings)]
