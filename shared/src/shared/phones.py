"""Customers' phone numbers: mainland China mobile numbers, 11 digits starting 13 to 19.

Staff work phones (landlines with area codes, extensions) follow another rule, in members.
"""

from typing import Annotated

from pydantic import StringConstraints

PHONE_PATTERN = r"^1[3-9]\d{9}$"

Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
