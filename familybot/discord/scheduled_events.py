"""Discord's Events panel (optional, /setup events): one guild scheduled event per group."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.http import Route

from familybot.discord.common import TOO_MANY_EVENTS, audit_reason
from familybot.errors import DiscordActionFailed
from familybot.i18n import _, lazy_gettext
from familybot.models.events import EventSpec

log = logging.getLogger(__name__)

# Privacy "guild only", the entity types, and Discord's recurrence rule frequencies
# (RecurrenceRuleFrequencies in the API spec).
EVENT_GUILD_ONLY = 2
EVENT_VOICE = 2
EVENT_EXTERNAL = 3
EVENT_MONTHLY = 1
EVENT_WEEKLY = 2


def event_fields(spec: EventSpec) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": spec.name[:100],
        "description": spec.description[:1000],
        "privacy_level": EVENT_GUILD_ONLY,
        "scheduled_start_time": spec.start.isoformat(),
        "scheduled_end_time": spec.end.isoformat(),
    }
    if spec.channel_id is not None:
        fields.update(
            entity_type=EVENT_VOICE, channel_id=str(spec.channel_id), entity_metadata=None
        )
    else:
        fields.update(
            entity_type=EVENT_EXTERNAL,
            channel_id=None,
            entity_metadata={"location": (spec.location or "Discord")[:100]},
        )
    rec = spec.recurrence
    if rec is not None:
        rule: dict[str, Any] = {
            "start": spec.start.isoformat(),
            "frequency": EVENT_MONTHLY if rec.monthly else EVENT_WEEKLY,
            "interval": rec.interval,
        }
        if rec.monthly:
            rule["by_n_weekday"] = [{"n": rec.n, "day": rec.weekday}]
        else:
            rule["by_weekday"] = [rec.weekday]
        fields["recurrence_rule"] = rule
    return fields


def _failed(what: str, guild_id: int, error: discord.HTTPException) -> DiscordActionFailed:
    if error.code == TOO_MANY_EVENTS:
        log.warning("scheduled events at Discord's limit guild=%d", guild_id)
    else:
        log.warning(
            "discord refused to %s scheduled event guild=%d status=%s code=%s",
            what,
            guild_id,
            error.status,
            error.code,
        )
    texts = {
        "create": _(
            "Discord didn't let me create an event in the Events panel. I may be missing the "
            "Manage Events permission; an admin can check with `/setup show`."
        ),
        "update": _(
            "Discord didn't let me update an event in the Events panel. I may be missing the "
            "Manage Events permission; an admin can check with `/setup show`."
        ),
    }
    return DiscordActionFailed(
        texts.get(what)
        or _(
            "Discord didn't let me remove an event from the Events panel. I may be missing the "
            "Manage Events permission; an admin can check with `/setup show`."
        )
    )


class DiscordScheduledEvents:
    """Implements ScheduledEventsPort (services/sessions/scheduled_events.py)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def create_scheduled_event(self, guild_id: int, spec: EventSpec) -> int:
        fields = event_fields(spec)
        if fields["channel_id"] is None:
            del fields["channel_id"]
        try:
            if "recurrence_rule" in fields:
                # discord.py's helper drops recurrence_rule: send the documented body as is.
                route = Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=guild_id)
                data = await self._client.http.request(
                    route,
                    json=fields,
                    reason=audit_reason(guild_id, lazy_gettext("FamilyBot: group session series")),
                )
            else:
                data = await self._client.http.create_guild_scheduled_event(
                    guild_id,
                    reason=audit_reason(guild_id, lazy_gettext("FamilyBot: next group session")),
                    **fields,
                )
        except discord.HTTPException as error:
            raise _failed("create", guild_id, error) from error
        return int(data["id"])

    async def edit_scheduled_event(self, guild_id: int, event_id: int, spec: EventSpec) -> bool:
        fields = event_fields(spec)
        try:
            if "recurrence_rule" in fields:
                route = Route(
                    "PATCH",
                    "/guilds/{guild_id}/scheduled-events/{event_id}",
                    guild_id=guild_id,
                    event_id=event_id,
                )
                await self._client.http.request(
                    route,
                    json=fields,
                    reason=audit_reason(
                        guild_id, lazy_gettext("FamilyBot: session series changed")
                    ),
                )
            else:
                await self._client.http.edit_scheduled_event(
                    guild_id,
                    event_id,
                    reason=audit_reason(guild_id, lazy_gettext("FamilyBot: session changed")),
                    **fields,
                )
        except discord.NotFound:
            return False
        except discord.HTTPException as error:
            raise _failed("update", guild_id, error) from error
        return True

    async def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        try:
            await self._client.http.delete_scheduled_event(
                guild_id,
                event_id,
                reason=audit_reason(
                    guild_id, lazy_gettext("FamilyBot: session no longer upcoming")
                ),
            )
        except discord.NotFound:
            log.info("scheduled event already gone guild=%d event=%d", guild_id, event_id)
        except discord.HTTPException as error:
            raise _failed("remove", guild_id, error) from error
