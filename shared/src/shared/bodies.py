"""Request bodies: a field a body does not have is refused, 422 naming it.

Pydantic ignores unknown fields by default, so a client's typo (`birthdy`, `consent` for
`consents`) or a field an endpoint does not take (a card number in a profile edit) was answered
200 or 201 with nothing of it recorded: the caller believed it saved what was dropped. Every body a
client sends derives from `Body`; answers and events keep pydantic's default.
"""

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
