"""The time every service runs on: a `Clock` is a callable returning an aware UTC datetime.

The app holds one (`create_app(settings, clock=...)`); routes get it through `shared.deps.NowDep`,
event handlers and commands through `uow.now()`, jobs as their `now` argument. Tests pass their own
clock to move time; nothing in a service calls `datetime.now` itself.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
