"""Start-up without garbage collections (issue 15: no step may hold the loop > 50 ms).

Start-up makes mostly objects that live as long as the process (modules, classes, commands,
services), and its allocations set off collections in the middle of it: a full one walked
all of them, holding the event loop 50-100 ms (and one in a worker thread holds it as well,
as it keeps the GIL). So no collection runs while the bot starts (nor during its warm-up
right after, familybot/warm_up.py: every hold() released); then what start-up left
alive is moved out of later collections (gc.freeze, after start-up and again after its
warm-up, twice per process at most), so they walk only
what came after. Objects frozen are still freed as usual when nothing refers to them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Freezes left in this process: after start-up, and after its warm-up (which begins once
# ready, after start-up's hold is released). Not more: a test process starts many bots.
_freezes_left = 2
_holds = 0
_was_enabled = True


def hold() -> None:
    """No collection until every hold is released (start-up, then its warm-up)."""
    global _holds, _was_enabled
    if _holds == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holds += 1


def release() -> None:
    """The last release freezes what start-up (or its warm-up) left alive and turns the
    collector back on, if it was on before."""
    global _holds, _freezes_left
    _holds -= 1
    if _holds > 0:
        return
    if _freezes_left > 0:
        gc.freeze()
        _freezes_left -= 1
    if _was_enabled:
        gc.enable()


@contextmanager
def quiet_start() -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release()


@contextmanager
def quiet_imports() -> Iterator[None]:
    """Import the bot without collections (about 30 ms of CPU: ~100k objects, every one
    living as long as the process, walked again and again), then move them out of later
    collections; the collector is back on after (if it was)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


# While the collector is off for a hand-over: the most young objects left for the collection
# its return sets off (a 2,000-reminder delivery through discord.py left enough cyclic
# garbage over 45 s for one collection of 26 ms of CPU; 20,000 of its objects took 15-18
# ms, so 5,000 about 4 ms).
YOUNG_LIMIT = 5_000
# And the middle generation every this many young collections: what outlives one (a
# request's objects still referenced for a moment) went to it, and nothing collected it
# while the collector was off, so a 45-s delivery left all of it for the one collection the
# collector's return set off (a generation-1 pause of 42 ms at its end, bench/reminders.py).
MIDDLE_EVERY = 4


def bound_young() -> None:
    """Collect the youngest generation once it holds YOUNG_LIMIT objects (the collector
    being off), and every MIDDLE_EVERY times the middle one with it: short pauses now
    instead of a long one when it is back on."""
    young, middle, _ = gc.get_count()
    if young >= YOUNG_LIMIT:
        gc.collect(1 if middle >= MIDDLE_EVERY else 0)
