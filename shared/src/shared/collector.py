"""Python's cycle collector in a service process: tuned once start-up is done, and paused while a
job builds a large working set.

A service starts with a couple of hundred thousand long-lived objects (modules, SQLAlchemy
metadata, pydantic schemas, routes). Every full collection walks all of them again, and a
consumer applying thousands of events at a time keeps enough of them alive across young
collections to trigger a full one nearly every batch: 35 % of the points consumer's CPU went to
walking the start-up objects over and over. Freezing them once start-up is done moves them out of
the collector's reach for good (they live as long as the process anyway), so a full collection
walks only what was created since. The young generation is collected less often, too
(`YOUNG_THRESHOLD`).

The collector runs on allocation counts: every so many new container objects it scans a
generation, and now and then every object alive. A job that keeps hundreds of thousands of
objects alive until its end (the analytics job: a history, a snapshot row and an event per
member) sets off those full scans again and again while its working set grows, each one
longer than the last: 1.5 s of the 7.5 s of CPU its first run over 100,000 members took. Those
objects hold no reference cycles; reference counting frees them when the job drops them, so the
scans find nothing to collect.
"""

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees everything it
    can). The collector is process-wide: other tasks of the process run without it meanwhile,
    which only delays freeing their cycles, if any, until the block ends. Nested or overlapping
    blocks leave it to the one that paused it to turn it back on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

_frozen = False

# Container objects allocated (net) between two young collections; Python's default is 700. A
# consumer keeps a whole batch alive while it applies it (a few dozen objects per event), so at
# 700 a young collection ran every dozen events and walked, then promoted, everything the batch
# held so far; at this threshold most of a batch is freed before a collection sees it. Measured on
# the points consumer: collector time per 100,000 sales 1.5 s -> 0.8 s.
YOUNG_THRESHOLD = 50_000


def tune_collector() -> None:
    """Collects the garbage start-up left, freezes every object still alive and raises the young
    generation's threshold; called once start-up is done. Once per process: a test session starts
    many apps, and freezing again would keep whatever cyclic garbage the earlier ones leave out of
    the collector's reach."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    freeze_alive()


def freeze_alive() -> None:
    """Collects the garbage, freezes every object still alive and raises the young generation's
    threshold: `tune_collector`'s work, also for a process that is not a service (the benchmarks'
    load generators) and may freeze again once more long-lived objects exist."""
    # Garbage frozen now would never be freed: collect it first.
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
