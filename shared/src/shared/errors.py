"""The refusals a service layer raises, and the one place they become HTTP answers.

Service-layer and domain code raise these (or subclasses named for the case) and never import
FastAPI (this module does not either); `build_service_app` maps them to a status with `{"detail": str(exc)}`
and whatever `extra()` adds beside it. The access policy's own refusals (`shared.policy.AccessDenied`,
`NotCustomer`) are mapped beside them by `shared.authorize.access_error_handlers`.
"""

from typing import Any


class ServiceError(Exception):
    status_code = 409

    def extra(self) -> dict[str, Any]:
        """Fields answered beside `detail`, for a service whose clients tell refusals apart by more
        than the status (points names the kind of refusal in `error`). `detail` itself stays str(exc)."""
        return {}


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Forbidden(ServiceError):
    status_code = 403


class TooManyRequests(ServiceError):
    status_code = 429


class Invalid(ServiceError):
    """Bad input that only the service layer can see; the answer names the field, as validation does."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
