"""A JSON body that is not UTF-8 text: a 422 naming the body and the byte, not a bare 400.

FastAPI decodes a JSON body itself and answers any failure but a JSON syntax error with
`400 "There was an error parsing the body"`, its cause (a `UnicodeDecodeError`) kept only as the
exception's `__cause__`. A till or an old system writing GBK then learns nothing of what to fix.
Here that 400 becomes the answer a body that is no JSON gets (`json_invalid` at `["body",
position]`, through the app's own validation handler), saying which byte at which position and
that JSON is sent in UTF-8. A 405 says every method its path takes (`shared.methods`). Every other
HTTP error is answered as FastAPI answers it.
"""

from fastapi import Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from shared.methods import allowed_methods
from shared.validation_errors import validation_error_handler

# FastAPI's words for a body it could not read (fastapi/routing.py): with its cause, what tells its
# 400 from a route's own.
UNREADABLE_BODY = "There was an error parsing the body"


def not_utf8(exc: UnicodeDecodeError) -> dict[str, object]:
    """The validation error of a body `exc` could not decode, located as a JSON syntax error is:
    at the body and the position (in bytes) where reading stopped."""
    byte = exc.object[exc.start]
    # `json.loads` reads a body that opens with NUL bytes as UTF-16 or UTF-32 (RFC 4627's
    # detection): say what it was read as when that was not UTF-8.
    read_as = "" if exc.encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8") else f", read as {exc.encoding}"
    return {
        "type": "json_invalid",
        "loc": ("body", exc.start),
        "msg": f"body: not UTF-8 (byte 0x{byte:02x} at position {exc.start}{read_as}); send JSON in UTF-8",
        "ctx": {"error": exc.reason},
    }


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cause = exc.__cause__
    if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == UNREADABLE_BODY and isinstance(cause, UnicodeDecodeError):
        # The app's own handler of validation errors, so the answer is the one its other bad bodies
        # get (the gateway's console wraps it).
        answer = request.app.exception_handlers.get(RequestValidationError, validation_error_handler)
        return await answer(request, RequestValidationError([not_utf8(cause)]))  # type: ignore[no-any-return]
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED and (allowed := allowed_methods(request.app.router.routes, request.scope)):
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)
