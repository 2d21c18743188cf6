"""How the operators' console judges a service from what its `/health/live` and `/health/ready`
answered: up or not, and each part (database, broker, consumer, outbox) with a plain verdict."""

from dataclasses import dataclass, field
from typing import Any

from shared.service import FAILED, NOT_CONNECTED

# An outbox this far behind is worth a look even while everything answers "ok".
OUTBOX_WARNING = 1000


@dataclass(frozen=True, slots=True)
class Unanswered:
    """Why a service's health addresses gave no report, for the page to word (`KINDS`), with the
    technical detail an operator looks up (`error`: the connection's error) and the addresses so."""

    kind: str  # one of KINDS
    paths: tuple[str, ...] = ()
    error: str = ""  # "ConnectError", as the HTTP client names what failed
    status: int | None = None  # "no_report": the status answered without a report
    seconds: float | None = None  # "timeout": the deadline waited


# not_configured: the gateway has no address of the service; connect: nothing took the connection
# (the service is down, or not where the address says); unreachable: the connection broke off;
# timeout: no answer within the deadline; no_report: an answer that is no health report.
KINDS = ("not_configured", "connect", "unreachable", "timeout", "no_report")


def merged(found: list[Unanswered | None]) -> tuple[Unanswered, ...]:
    """The problems of a service's addresses, those alike (both refused the connection) said once,
    naming each address so."""
    alike: dict[tuple[str, str, int | None, float | None], list[str]] = {}
    for problem in found:
        if problem is not None:
            alike.setdefault((problem.kind, problem.error, problem.status, problem.seconds), []).extend(problem.paths)
    return tuple(Unanswered(kind, tuple(paths), error, status, seconds) for (kind, error, status, seconds), paths in alike.items())


@dataclass(frozen=True, slots=True)
class Check:
    """What a readiness check (database, broker) said, for the page to word by `kind`: `ok`,
    `unknown` (the service gave no report), `not_connected` (its outbox relay holds no connection to
    the broker) or `failed`; `detail`, what failed as the service wrote it, for the operators."""

    kind: str
    detail: str = ""


def check(said: str) -> Check:
    """A check's report (`shared.service`'s readiness: "ok", or "failed: " and why), or "unknown"."""
    if said in ("ok", "unknown"):
        return Check(said)
    reason = said.removeprefix(FAILED)
    if reason.startswith(NOT_CONNECTED):  # "... (the outbox relay's last failure: ...)", if it failed
        return Check("not_connected", reason.removeprefix(NOT_CONNECTED).strip().removeprefix("(").removesuffix(")"))
    return Check("failed", reason)


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
    problems: tuple[Unanswered, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.live and self.ready

    @property
    def database_check(self) -> Check:
        return check(self.database)

    @property
    def broker_check(self) -> Check:
        return check(self.broker)

    @property
    def outbox_warning(self) -> bool:
        return self.outbox_pending is not None and self.outbox_pending >= OUTBOX_WARNING


def judge(name: str, live: dict[str, Any] | None, ready: dict[str, Any] | None,
          problems: tuple[Unanswered, ...] = ()) -> ServiceHealth:
    """`live` and `ready` are the bodies of the two answers (None: no answer at all); `problems`,
    why there was none."""
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
        problems=problems,
    )


def uptime_parts(seconds: int | None) -> tuple[int, int, int, int] | None:
    """Days, hours, minutes and seconds of an uptime, for the page to word in the person's language."""
    if seconds is None:
        return None
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return days, hours, *divmod(rest, 60)
