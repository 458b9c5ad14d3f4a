"""Reminder pacing against the fake Discord's global limit, on virtual loop time (issue 15).

The limiter and the fake's rolling window both read the loop's clock; `looptime` moves it
straight to the next timer, so a few hundred sends with delays take milliseconds to run.
A request reaches Discord some time after the limiter let it go (a loaded CPU, a slow
network) and is answered some time after that: both delays are drawn at random here.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import looptime

from familybot.ratelimit import SlidingWindowLimiter
from tests.support.fake_discord import FakeDiscord

LIMIT = 45
T = TypeVar("T")


def run_virtual(make: Callable[[], Awaitable[T]]) -> T:
    loop = looptime.new_event_loop(start=0.0, _enabled=True)
    try:
        return loop.run_until_complete(make())  # type: ignore[arg-type]
    finally:
        loop.close()


def busiest_window(stamps: list[float], window: float = 1.0) -> int:
    """The most stamps in any half-open window [t, t + window) (t at a stamp suffices)."""
    stamps = sorted(stamps)
    return max(
        (bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps)), default=0
    )


async def deliver(
    n: int,
    *,
    to_discord: Callable[[random.Random], float],
    answer: Callable[[random.Random], float],
    workers: int = 8,
    seed: int = 15,
) -> tuple[list[float], FakeDiscord, float]:
    """Send `n` requests through the limiter with `workers` workers, as the dispatcher does.

    Returns the times the fake received them, the fake, and the time the last was answered.
    """
    loop = asyncio.get_running_loop()
    fake = FakeDiscord(validate_schema=False)
    fake.global_rate_limit = LIMIT  # 45 in any rolling 1 s, counted on arrival
    fake.rate_limit_clock = loop.time
    limiter = SlidingWindowLimiter(LIMIT)
    rng = random.Random(seed)
    arrived: list[float] = []
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            async with limiter.slot():
                await asyncio.sleep(to_discord(rng))  # the request on its way
                arrived.append(loop.time())
                refused = fake._rate_limited()
                assert refused is None, "429 from the fake Discord"
                await asyncio.sleep(answer(rng))  # the answer on its way back

    await asyncio.gather(*(worker() for _ in range(workers)))
    return arrived, fake, loop.time()


def test_a_loaded_cpu_never_puts_more_than_45_into_any_second_of_discords() -> None:
    # Requests held up 0-150 ms on the way out (a busy loop), answers 5-80 ms later.
    arrived, fake, took = run_virtual(
        lambda: deliver(
            600,
            to_discord=lambda r: r.choice((0.0, 0.0, r.uniform(0, 0.15))),
            answer=lambda r: r.uniform(0.005, 0.08),
        )
    )
    assert len(arrived) == 600 and fake.rate_limited_count == 0
    assert busiest_window(arrived) <= LIMIT
    # Not slower than needed: each second's 45 slots are reused a round trip later.
    assert 600 / took > 38, 600 / took


def test_a_quick_network_still_paces_evenly_at_45_a_second() -> None:
    arrived, fake, took = run_virtual(
        lambda: deliver(450, to_discord=lambda r: 0.001, answer=lambda r: 0.002)
    )
    assert fake.rate_limited_count == 0
    assert busiest_window(arrived) <= LIMIT
    # Spread, not 45 at once then a pause: any tenth of a second holds at most 5.
    assert busiest_window(arrived, 0.1) <= 5
    assert 43 < 450 / took <= 45.5, 450 / took


def test_all_slots_in_flight_wait_for_an_answer() -> None:
    async def scenario() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        limiter = SlidingWindowLimiter(3, window=1.0)
        started: list[float] = []

        async def send(hold: float) -> None:
            async with limiter.slot():
                started.append(loop.time())
                await asyncio.sleep(hold)

        # Three slow requests (answered after 5 s) hold every slot; the fourth waits for
        # the first answer and then a whole window after it.
        await asyncio.gather(send(5), send(5), send(5), send(0))
        return len(started), started[-1]

    count, fourth = run_virtual(scenario)
    assert count == 4
    assert fourth >= 6.0


def test_the_fakes_global_limit_spares_interaction_answers_as_discord_does() -> None:
    """Discord's global limit does not bind interaction endpoints (answers and follow-ups):
    the fake neither counts nor refuses them, and still refuses the next ordinary request."""
    fake = FakeDiscord(validate_schema=False)
    fake.global_rate_limit = 2
    fake.rate_limit_clock = lambda: 100.0  # one instant: every request in one window
    assert fake._rate_limited("/channels/1/messages") is None
    for _ in range(10):
        assert fake._rate_limited("/interactions/5/tok/callback") is None
        assert fake._rate_limited("/webhooks/7/tok/messages/@original") is None
    assert fake._rate_limited("/channels/1/messages") is None
    assert fake._rate_limited("/channels/1/messages") is not None
    assert fake.rate_limited_count == 1 and len(fake.accepted_times) == 2
