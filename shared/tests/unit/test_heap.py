"""Freezing what start-up leaves alive, so full collections stop walking it, and collecting the
young generation less often."""

import gc
import weakref

import pytest

from shared import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_start_up_garbage_is_freed_and_what_stays_alive_is_frozen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_frozen", False)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *thresholds[1:])
    try:
        alive, garbage = Node(), Node()
        dropped = weakref.ref(garbage)
        del garbage
        heap.tune_collector()
        assert dropped() is None, "collected before the freeze, not kept forever"
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *thresholds[1:])
        frozen = gc.get_freeze_count()
        later = Node()
        heap.tune_collector()
        assert gc.get_freeze_count() == frozen, "the second app of a process freezes nothing more"
        assert alive.me is alive and later.me is later
    finally:
        gc.set_threshold(*thresholds)
