"""The refusals a service layer raises, and the one place they become HTTP answers.

Service-layer and domain code raise these (or subclasses named for the case) and never import
FastAPI (this module does not either); `build_service_app` maps them to a status with
`{"detail": exc.detail()}` (`str(exc)` unless the refusal says otherwise) and whatever `extra()`
adds beside it. The access policy's own refusals (`shared.policy.AccessDenied`, `NotCustomer`) are
mapped beside them by `shared.authorize.access_error_handlers`.
"""

from collections.abc import Iterable
from typing import Any


class ServiceError(Exception):
    status_code = 409

    def detail(self) -> Any:
        """The `detail` of the answer: the message, unless a refusal's clients expect another shape."""
        return str(self)

    def extra(self) -> dict[str, Any]:
        """Fields answered beside `detail`, for a service whose clients tell refusals apart by more
        than the status (points names the kind of refusal in `error`). `detail` is never replaced."""
        return {}

    def headers(self) -> dict[str, str]:
        """HTTP headers of the answer (`Retry-After` of a throttled request, `WWW-Authenticate`)."""
        return {}


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Forbidden(ServiceError):
    status_code = 403


class Gone(ServiceError):
    """Something that existed and can no longer be used (an expired link)."""

    status_code = 410


class RetryLater(ServiceError):
    """A refusal that may say when a retry can succeed."""

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        # Whole seconds until a retry may succeed, answered as `Retry-After` (RFC 9110 §10.2.3).
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else {"Retry-After": str(max(1, self.retry_after_s))}


class TooManyRequests(RetryLater):
    """This caller asked too often (429): its own attempts, not the service's load."""

    status_code = 429


class Overloaded(RetryLater):
    """The service has more of this work in hand than it can do well right now (503, with
    `Retry-After`): shed at the door rather than let every caller's request time out inside."""

    status_code = 503


class Invalid(ServiceError):
    """Bad input that only the service layer can see; the answer names the field, as validation does."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class NotOneOf(Invalid):
    """A value outside a fixed set, worded as request validation words a literal's ("Input should
    be 'a', 'b' or 'c'"): a client, and the console putting a refusal into words, read the choices
    a service layer checks the same way as those its schema checks."""

    def __init__(self, field: str, choices: Iterable[str]) -> None:
        *others, last = [f"'{choice}'" for choice in choices]
        super().__init__(field, f"Input should be {', '.join(others)} or {last}" if others else f"Input should be {last}")


class InvalidBodyField(Invalid):
    """`Invalid`, answered in the shape request validation gives (`[{"loc": ["body", field], "msg",
    "type", "input"}]`), for APIs whose clients read every bad field from that one shape (the POS
    API): what only the service can check looks the same to them as what the schema checks. A field
    below the top (`sales.3.store_id`) is located as validation locates it: `["body", "sales", 3, "store_id"]`."""

    def detail(self) -> Any:
        loc = [int(part) if part.isdigit() else part for part in self.field.split(".")]
        return [{"loc": ["body", *loc], "msg": self.message, "type": "value_error", "input": None}]
