"""How the operators' console judges a service from what its `/health/live` and `/health/ready`
answered: up or not, and each part (database, broker, consumer, outbox) with a plain verdict."""

from dataclasses import dataclass, field
from typing import Any

# An outbox this far behind is worth a look even while everything answers "ok".
OUTBOX_WARNING = 1000


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    name: str
    live: bool
    ready: bool
    version: str = ""
    started_at: str = ""
    uptime_s: int | None = None
    database: str = "unknown"
    broker: str = "unknown"
    consumer: str = ""
    outbox_pending: int | None = None
    consumer_lag: dict[str, int] = field(default_factory=dict)
    problem: str = ""

    @property
    def healthy(self) -> bool:
        return self.live and self.ready

    @property
    def outbox_warning(self) -> bool:
        return self.outbox_pending is not None and self.outbox_pending >= OUTBOX_WARNING


def judge(name: str, live: dict[str, Any] | None, ready: dict[str, Any] | None, problem: str = "") -> ServiceHealth:
    """`live` and `ready` are the bodies of the two answers (None: no answer at all)."""
    checks = (ready or {}).get("checks") or {}
    pending = (ready or {}).get("outbox_pending")
    return ServiceHealth(
        name=name,
        live=(live or {}).get("status") == "live",
        ready=(ready or {}).get("status") == "ready",
        version=str((live or {}).get("version", "")),
        started_at=str((live or {}).get("started_at", "")),
        uptime_s=(live or {}).get("uptime_s"),
        database=str(checks.get("database", "unknown")),
        broker=str(checks.get("broker", "unknown")),
        consumer=str((ready or {}).get("consumer", "")),
        outbox_pending=pending if isinstance(pending, int) else None,
        consumer_lag={str(k): int(v) for k, v in ((ready or {}).get("consumer_lag") or {}).items()},
        problem=problem,
    )


def uptime_parts(seconds: int | None) -> tuple[int, int, int, int] | None:
    """Days, hours, minutes and seconds of an uptime, for the page to word in the person's language."""
    if seconds is None:
        return None
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return days, hours, *divmod(rest, 60)
