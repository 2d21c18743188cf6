"""Refusals of the points domain as HTTP answers with the reason spelled out."""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from points.domain.exceptions import (
    AlreadyBooked,
    CapExceeded,
    GiftUnavailable,
    InvalidTransition,
    NothingLeft,
    OutOfStock,
    PointsError,
    RedemptionRefused,
)
from points.service_layer.redemptions import IdempotencyConflict, NotFound

STATUS: dict[type[PointsError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    IdempotencyConflict: status.HTTP_409_CONFLICT,
    AlreadyBooked: status.HTTP_409_CONFLICT,
    CapExceeded: status.HTTP_403_FORBIDDEN,
    RedemptionRefused: status.HTTP_409_CONFLICT,
    OutOfStock: status.HTTP_409_CONFLICT,
    GiftUnavailable: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
    NothingLeft: status.HTTP_409_CONFLICT,
}


async def _points_error(request: Request, exc: Exception) -> JSONResponse:
    code = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), status.HTTP_409_CONFLICT)
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PointsError, _points_error)
