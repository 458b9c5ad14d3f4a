"""/my forget against what happens in the same groups meanwhile (found in review, issue 15).

Both backends (the `services` fixture). Ordering is by the group's lock and events, never
by waiting out a clock.
"""

from __future__ import annotations

import asyncio

import pytest

from familybot.wiring import Services
from tests.e2e.harness import eventually
from tests.support.fakes import RecordingPort
from tests.unit.test_groups_service import GUILD, join, make_group


async def test_someone_seated_from_the_waitlist_while_forget_waits_loses_the_channel_too(
    services: Services, port: RecordingPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They wait for a seat; /my forget reads them as waitlisted, then waits for the group's
    lock, held by a /group leave that seats them and opens the channel to them. Forget must
    close the channel to them too: forgotten, they must not keep reading the group."""
    await make_group(services, capacity=1)
    first, waiting = 501, 502
    await join(services, first)
    await join(services, waiting)
    group = await services.groups.get_active(GUILD, "Parents Circle")
    lock = services.groups._lock(group.id)
    await lock.acquire()  # a button being handled in the group meanwhile
    leave = asyncio.create_task(services.groups.leave(GUILD, first, "Parents Circle"))
    # leave reads the group (a database round trip, slow on a loaded machine) and then
    # queues on the lock.
    await eventually(lambda: bool(lock._waiters), timeout=30)
    read = asyncio.Event()
    repo = services.groups._groups
    real_read = repo.memberships_for_privacy

    async def memberships_for_privacy(*args: object) -> object:
        found = await real_read(*args)  # type: ignore[arg-type]
        read.set()
        return found

    monkeypatch.setattr(repo, "memberships_for_privacy", memberships_for_privacy)
    forget = asyncio.create_task(services.privacy.forget_user(waiting))
    await read.wait()  # forget has read them as waitlisted; it queues behind leave
    lock.release()
    outcome = await leave
    await forget
    assert outcome.promoted_user_ids == [waiting]  # leave seated them, channel opened
    assert await repo.membership(group.id, waiting) is None  # forgotten
    assert not port.can_see(group.channel_id, waiting)  # and the channel closed to them


async def test_a_close_that_fails_lets_the_others_finish_and_deletes_nothing(
    services: Services, port: RecordingPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network error closing one group's channel (not a kind UserFacingError): forget
    fails as a whole (the member can ask again), but only once the other groups' closes
    have ended, under their locks, and with every membership still there."""
    member = 601
    for name in ("Circle A", "Circle B"):
        await make_group(services, name=name)
        await join(services, member, name)
    a = await services.groups.get_active(GUILD, "Circle A")
    b = await services.groups.get_active(GUILD, "Circle B")
    real = port.revoke_channel_access
    b_may_finish, b_started = asyncio.Event(), asyncio.Event()
    finished: list[int | None] = []

    async def revoke(guild_id: int, channel_id: int, user_id: int) -> None:
        if channel_id == a.channel_id:
            raise OSError("connection reset")
        b_started.set()
        await b_may_finish.wait()
        await real(guild_id, channel_id, user_id)
        finished.append(channel_id)

    monkeypatch.setattr(port, "revoke_channel_access", revoke)
    forget = asyncio.create_task(services.privacy.forget_user(member))
    await b_started.wait()
    for _ in range(50):
        await asyncio.sleep(0)
    assert not forget.done()  # A failed, but B's close is still under way: forget waits
    assert services.groups._lock(b.id).locked()
    b_may_finish.set()
    with pytest.raises(OSError):
        await forget
    assert finished == [b.channel_id]
    repo = services.groups._groups
    assert await repo.membership(a.id, member) is not None
    assert await repo.membership(b.id, member) is not None
