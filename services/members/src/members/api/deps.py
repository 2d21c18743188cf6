"""Dependencies of the members API beyond the shared ones."""

from typing import Annotated

from fastapi import Depends, Request

from members.config import Settings
from members.service_layer.privacy import AccessLogWriter


async def _members_settings(request: Request) -> Settings:
    return request.app.state.settings


# The members service's own settings type (thresholds, time zone), not only the shared base.
MembersSettingsDep = Annotated[Settings, Depends(_members_settings)]


async def _access_log(request: Request) -> AccessLogWriter:
    return request.app.state.access_log


# Writes the access-log rows of read-only requests (profile reads) in shared transactions.
AccessLogDep = Annotated[AccessLogWriter, Depends(_access_log)]
