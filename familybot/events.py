"""Typed domain events and the small in-process bus that carries them.

A service publishes what happened (a series moved, a group changed, a timed ban was set);
what that sets off in other features is subscribed in one place, familybot/wiring.py.
Not to be confused with familybot/services/sessions/scheduled_events.py, which mirrors sessions into
Discord's Events panel (it is one of the subscribers).

Events carry ids only: never names, text or who is in which group.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event on the bus."""


@dataclass(frozen=True)
class SeriesChanged(DomainEvent):
    """What is due may have changed for these session series (schedule, audience, offsets,
    a one-off change, a member's reminder settings): reminders are re-planned, the Events
    panel re-synced."""

    series_ids: tuple[int, ...]


@dataclass(frozen=True)
class GroupChanged(DomainEvent):
    """Who is seated in these groups, their reminder times, names or status changed (several
    at once when one person leaves many: /my forget re-plans them together, issue 15)."""

    group_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnbanScheduled(DomainEvent):
    """A timed ban was stored: it is to be lifted at ``due_at``."""

    case_id: int
    due_at: datetime


@dataclass(frozen=True)
class UnbansCancelled(DomainEvent):
    """These timed bans will not be lifted by the clock (replaced, made permanent, lifted)."""

    case_ids: tuple[int, ...]


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[E], Awaitable[None] | None]


class EventBus:
    """Subscribers run in the order they were subscribed, each awaited before the next.

    A subscriber that raises stops the ones after it and the error reaches the publisher,
    as the chained callbacks this replaces did (e.g. a re-plan that fails makes the command
    that changed the series report an error). Subscribers that must not hold the publisher
    up (the Events panel sync) hand their work to a background task themselves.
    """

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Callable[[DomainEvent], object]]] = {}

    def subscribe(self, kind: type[E], handler: Handler[E]) -> None:
        self._handlers.setdefault(kind, []).append(handler)  # type: ignore[arg-type]

    def subscribers(self, kind: type[DomainEvent]) -> int:
        return len(self._handlers.get(kind, ()))

    async def publish(self, event: DomainEvent) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.warning(
                    "subscriber failed event=%r subscriber=%s",
                    event,
                    getattr(handler, "__qualname__", type(handler).__name__),
                )
                raise
