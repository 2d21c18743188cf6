"""What a transport is given and answers: the contract between the dispatch job and every way a
message leaves (adapters/transports.py chooses one per channel).

A transport that cannot take a message raises `TransportError`; the job retries it with backoff,
or fails it at once when `retryable=False` (a number the provider refuses, a member with no
e-mail address: trying again cannot help).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, as a transport needs it. `text` is what the inbox and the archive show;
    `template`, `params` and `language` are for transports that send a provider's pre-approved
    template (SMS) or render an e-mail's subject."""

    message_id: str
    member_id: str
    channel: Literal["sms", "email", "inbox"]
    text: str
    marketing: bool
    at: datetime
    template: str = ""
    params: dict[str, str] = field(default_factory=dict)
    language: str = "zh-CN"
    # Where to send it, when the sender already knows: a one-time message's phone number (it goes to
    # whoever asked for the code, not to a member), or the member's phone or e-mail read with the
    # name a greeting message calls them by. Transports then send there instead of looking the
    # member's contact up. Held in memory for the hand-over only; it is never stored in clear.
    address: str | None = None


@dataclass(frozen=True)
class Receipt:
    ref: str  # the transport's id for the hand-over
    status: Literal["sent", "delivered"]


class TransportError(Exception):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    async def send(self, message: Outgoing) -> Receipt: ...
