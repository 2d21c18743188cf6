"""Dependencies of the members API beyond the shared ones."""

from typing import Annotated

from fastapi import Depends, Request

from members.config import Settings


async def _members_settings(request: Request) -> Settings:
    return request.app.state.settings


# The members service's own settings type (thresholds, time zone), not only the shared base.
MembersSettingsDep = Annotated[Settings, Depends(_members_settings)]
