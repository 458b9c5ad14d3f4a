"""Start-up REST calls in the reminders' pace (issue 16).

Discord's global limit (50 requests/s) is per bot token. Each process paces its reminders
and notices to its part of 45/s (familybot/discord/notices.py, db/peers.py), but what it
calls while starting (the Gateway's address, the command sync, the group access upgrade and
whatever else runs before it settles) went out beside that pace: with three processes the
busiest second reached 48. From set-up until its start-up work is done, every request of
this process takes a slot of the same limiter, except:

* requests made inside a slot already (a reminder send): one request, one slot;
* interaction answers and follow-ups (/interactions/..., /webhooks/...): Discord does not
  count them against the global limit, and a person is waiting for them.

After start-up, requests outside the notices' and reminders' own slots go unpaced again: a
command's calls must not wait behind a reminder burst, nor at a newcomer's 1/s while it
settles.
"""

from __future__ import annotations

from typing import Any

from familybot.ratelimit import SlidingWindowLimiter

UNPACED = ("/interactions/", "/webhooks/")


class StartupPacing:
    """Wraps a discord.py HTTPClient's `request` until `stop()`."""

    def __init__(self, http: Any, limiter: SlidingWindowLimiter) -> None:
        self._limiter = limiter
        self._request = http.request
        self.active = True
        http.request = self.request

    async def request(self, route: Any, **kwargs: Any) -> Any:
        path = str(getattr(route, "path", ""))
        if not self.active or self._limiter.held() or path.startswith(UNPACED):
            return await self._request(route, **kwargs)
        async with self._limiter.slot():
            return await self._request(route, **kwargs)

    def stop(self) -> None:
        self.active = False
