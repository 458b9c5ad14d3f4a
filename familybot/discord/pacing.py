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

Until the bot is ready, its own calls (logging in, the command sync, the Gateway's address)
go ahead of reminders waiting for a slot, still within the limit: after a downtime the
reminders due meanwhile are all sent at start, and queued before those calls they put off
ready by their number / 45 s (issue 15: 32 overdue sends, 0.19 s before the Gateway's
address; bench/reminders.py). Reminders are late already; people's commands wait for ready.
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
        self.connecting = True  # until ready: ahead of the reminders' line
        http.request = self.request

    async def request(self, route: Any, **kwargs: Any) -> Any:
        path = str(getattr(route, "path", ""))
        if not self.active or self._limiter.held() or path.startswith(UNPACED):
            return await self._request(route, **kwargs)
        async with self._limiter.slot(ahead=self.connecting):
            return await self._request(route, **kwargs)

    def ready(self) -> None:
        """Connected: later start-up calls (the group access upgrade) wait in line."""
        self.connecting = False

    def stop(self) -> None:
        self.active = False
