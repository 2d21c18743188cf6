"""Ids that come from the stores' own systems (store codes, POS transaction ids) and the ids this
platform gives its own records.

The same types validate the POS entry points, the services' APIs, query and path parameters and
the event contracts, so a store id accepted at the gateway is one every consumer accepts too.
"""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from shared.text import clean_text

STORE_ID_PATTERN = r"^[A-Za-z0-9_-]+$"
# Till and refund numbers as POS systems print them, e.g. "S001-T03-000123" or "S001/2026:17".
TXN_ID_PATTERN = r"^[A-Za-z0-9_.:/-]+$"

StoreId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=STORE_ID_PATTERN)]
# A person's id in members' staff directory (an HR number, "am-s001-chen"): the subject of their
# tokens, and a segment of the paths that address them, so no "/", "?" or "#", and neither "." nor
# "..", which no path can name.
STAFF_DIRECTORY_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$"
StaffDirectoryId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=STAFF_DIRECTORY_ID_PATTERN)]
TxnId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TXN_ID_PATTERN)]
# A member, complaint or other record of this platform, as its service named it (a UUID's 36
# characters); an empty one names nothing and is refused, not taken for "none", and one with a
# control character can name nothing either (PostgreSQL refuses a NUL outright).
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=36), AfterValidator(clean_text)]

# The staff id points records on a gift register entry a member made or cancelled themself in the
# app: no person's, so the console, which names the staff of each entry, words it for the reader.
APP_STAFF_ID = "member-app"
