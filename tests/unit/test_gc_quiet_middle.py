"""While the collector is off for a reminder hand-over, what outlives a young collection
must not pile up in the middle generation for one long collection when it is back on
(familybot/gc_quiet.py, issue 15: no loop stall over 50 ms)."""

from __future__ import annotations

import gc
from collections import deque

import pytest

from familybot import gc_quiet


def test_the_middle_generation_is_collected_before_it_piles_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_quiet, "YOUNG_LIMIT", 500)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        # Objects alive for a while, then garbage (a request's): they outlive young collections.
        alive: deque[list[object]] = deque(maxlen=2_000)
        middle: list[int] = []
        for _ in range(20_000):
            cycle: list[object] = []
            cycle.append(cycle)
            alive.append(cycle)
            gc_quiet.bound_young()
            middle.append(gc.get_count()[1])
        # Without the bound: one more young collection counted each 500 objects, 40 in all.
        assert max(middle) <= gc_quiet.MIDDLE_EVERY, max(middle)
        assert max(middle) > 0  # young collections did run
    finally:
        if was_enabled:
            gc.enable()
