"""Pausing Python's cycle collector while a job builds a large working set.

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
