"""The event flow as operators watch it: how far each consumer group is behind on each partition
(in records and in seconds), how much each service's outbox holds back, and the 24-hour history
of both drawn as a chart."""

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

HISTORY = timedelta(hours=24)
# The first sample after a start comes soon, so that the charts are not empty for an interval: a
# sample is a few HTTP calls and a broker read, nothing that would stampede the database.
FIRST_SAMPLE_AFTER_S = 15.0
# The services whose consumer groups the event flow follows (each group is named after its service).
SERVICES = ("gateway", "members", "points", "feedback", "campaigns")


def first_sample_after_s(every_s: float) -> int:
    """The wait before the first sample: short, and never longer than the sampling interval."""
    return int(min(FIRST_SAMPLE_AFTER_S, every_s))


def groups(topic_prefix: str) -> list[str]:
    return [f"{topic_prefix}{name}" for name in SERVICES]


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here (it reads from the start)
    behind: int  # records fetched after the committed offset
    capped: bool  # counting stopped at the fetch cap: at least `behind`
    oldest_at: datetime | None  # the timestamp of the first record not yet consumed

    def seconds(self, now: datetime) -> int:
        return max(0, int((now - self.oldest_at).total_seconds())) if self.oldest_at is not None and self.behind else 0


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    service: str
    pending: int | None  # None: the service did not say
    oldest_at: datetime | None

    def seconds(self, now: datetime) -> int:
        return max(0, int((now - self.oldest_at).total_seconds())) if self.oldest_at is not None else 0


def group_totals(lags: list[PartitionLag], now: datetime) -> dict[str, tuple[int, int]]:
    """Per consumer group: records behind on all its partitions, and the longest wait in seconds."""
    totals: dict[str, tuple[int, int]] = {}
    for lag in lags:
        behind, seconds = totals.get(lag.group, (0, 0))
        totals[lag.group] = (behind + lag.behind, max(seconds, lag.seconds(now)))
    return totals


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    points: str  # "x,y x,y ..." for an SVG polyline
    last: float
    coords: tuple[tuple[float, float], ...] = ()  # the same points; a lone one is drawn as a dot


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    top: float  # the value at the top of the chart
    lines: list[Line]
    hours: list[tuple[float, str]]  # (x, label) of the hour ticks

    @property
    def samples(self) -> int:
        """The most samples any line has: under 2, the page says why there is no line yet."""
        return max((len(line.coords) for line in self.lines), default=0)


def chart(series: dict[str, list[tuple[datetime, float]]], end: datetime, zone: tzinfo, *, width: int = 720,
          height: int = 200) -> Chart:
    """Lines of each series over the 24 hours before `end`, scaled to the largest value (at least
    1, so that an all-zero history is a flat line at the bottom rather than a division by zero),
    with the hours of `zone` marked every three hours."""
    start = end - HISTORY
    span = HISTORY.total_seconds()
    top = max([1.0, *(value for points in series.values() for _, value in points)])
    lines = []
    for name, points in sorted(series.items()):
        inside = sorted((at, value) for at, value in points if start <= at <= end)
        coords = tuple(
            (round((at - start).total_seconds() / span * width, 1), round(height - value / top * height, 1)) for at, value in inside
        )
        polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        lines.append(Line(name, polyline, inside[-1][1] if inside else 0.0, coords))
    first_hour = start.astimezone(zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours = [
        ((first_hour + timedelta(hours=h) - start).total_seconds() / span * width, f"{(first_hour + timedelta(hours=h)).hour:02d}")
        for h in range(0, 24, 3)
    ]
    return Chart(width, height, top, lines, hours)
