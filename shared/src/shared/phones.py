"""Customers' phone numbers: mainland China mobile numbers, 11 digits starting 13 to 19.

Staff work phones (landlines with area codes, extensions) follow another rule, in members.
"""

from typing import Annotated

from pydantic import StringConstraints

# ASCII digits only: `\d` would take full-width and other scripts' digits too, and one number so
# written would be another to the per-phone limits and to the look-up of the member holding it.
PHONE_PATTERN = r"^1[3-9][0-9]{9}$"

Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
