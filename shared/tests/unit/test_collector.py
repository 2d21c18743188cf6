"""The cycle collector: frozen start-up objects and a young generation collected less often, and
paused for a job's working set, always turned back on."""

import gc
import weakref

import pytest

from shared import collector
from shared.collector import collector_paused


def test_the_collector_is_off_inside_the_block_and_on_again_after_it_even_after_an_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_a_nested_block_leaves_the_collector_to_the_block_that_paused_it() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_start_up_garbage_is_freed_and_what_stays_alive_is_frozen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_frozen", False)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *thresholds[1:])
    try:
        alive, garbage = Node(), Node()
        dropped = weakref.ref(garbage)
        del garbage
        collector.tune_collector()
        assert dropped() is None, "collected before the freeze, not kept forever"
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, *thresholds[1:])
        frozen = gc.get_freeze_count()
        later = Node()
        collector.tune_collector()
        assert gc.get_freeze_count() == frozen, "the second app of a process freezes nothing more"
        assert alive.me is alive and later.me is later
    finally:
        gc.set_threshold(*thresholds)
