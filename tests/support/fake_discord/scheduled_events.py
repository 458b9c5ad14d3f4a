"""Guild scheduled events: the routes, with the checks Discord makes (start in the future,
location and end for external events, at most 100 active, recurrence rule limits)."""

from __future__ import annotations

from datetime import UTC, datetime

from .common import JSON
from .errors import ApiError, invalid_form, unknown
from .permissions import MANAGE_EVENTS, PermissionsMixin
from .routing import Req, RouteSpec
from .users import UsersMixin

SCHEDULED = 1
ACTIVE = 2
EXTERNAL = 3
YEARLY, MONTHLY, WEEKLY, DAILY = 0, 1, 2, 3

_EDITABLE = (
    "name",
    "description",
    "scheduled_start_time",
    "scheduled_end_time",
    "privacy_level",
    "status",
    "entity_type",
    "entity_metadata",
    "recurrence_rule",
)


def _aware(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def validate_event(ev: JSON) -> None:
    start = _aware(ev["scheduled_start_time"])
    if ev["status"] == SCHEDULED and start < datetime.now(UTC):
        raise invalid_form(
            "scheduled_start_time",
            "Cannot schedule event in the past.",
            "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
        )
    if ev["entity_type"] == EXTERNAL:
        if not (ev.get("entity_metadata") or {}).get("location"):
            raise invalid_form(
                "entity_metadata.location", "This field is required", "BASE_TYPE_REQUIRED"
            )
        if not ev.get("scheduled_end_time"):
            raise invalid_form("scheduled_end_time", "This field is required", "BASE_TYPE_REQUIRED")
    elif not ev.get("channel_id"):
        raise invalid_form("channel_id", "This field is required", "BASE_TYPE_REQUIRED")
    if ev.get("recurrence_rule") is not None:
        validate_recurrence(ev["recurrence_rule"], start)


def validate_recurrence(rule: JSON, start: datetime) -> None:
    """Discord's documented system limitations on recurrence rules (the schema alone
    allows far more): an app can't set `end`, `count` or `by_year_day`; by_weekday and
    by_n_weekday exclude each other; by_month/by_month_day are yearly only and go
    together; weekly is one day every week or every other week; monthly is one nth
    weekday (n 1-5) every month; yearly is one date every year. The rule starts when
    the event does."""

    def bad(field: str, message: str) -> ApiError:
        return invalid_form(f"recurrence_rule.{field}", message, "GUILD_SCHEDULED_EVENT_RECURRENCE")

    for name in ("end", "count", "by_year_day"):
        if rule.get(name) is not None:
            raise bad(name, "This field can't be set by applications.")
    if _aware(rule["start"]) != start:
        raise bad("start", "The recurrence must start when the event starts.")
    frequency = rule["frequency"]
    interval = rule.get("interval") or 1
    weekdays = rule.get("by_weekday")
    n_weekdays = rule.get("by_n_weekday")
    months, month_days = rule.get("by_month"), rule.get("by_month_day")
    if weekdays and n_weekdays:
        raise bad("by_weekday", "by_weekday and by_n_weekday can't be combined.")
    if (months or month_days) and frequency != YEARLY:
        raise bad("by_month", "by_month and by_month_day are for yearly events only.")
    if frequency == WEEKLY:
        if interval not in (1, 2):
            raise bad("interval", "A weekly event repeats every week or every other week.")
        if not weekdays or len(weekdays) != 1 or n_weekdays:
            raise bad("by_weekday", "A weekly event repeats on exactly one day.")
    elif frequency == MONTHLY:
        if interval != 1:
            raise bad("interval", "A monthly event repeats every month.")
        if not n_weekdays or len(n_weekdays) != 1 or weekdays:
            raise bad("by_n_weekday", "A monthly event repeats on one nth weekday.")
    elif frequency == YEARLY:
        if (
            interval != 1
            or not months
            or not month_days
            or len(months) != 1
            or len(month_days) != 1
        ):
            raise bad("by_month", "A yearly event repeats on one date.")
    elif frequency == DAILY and (interval != 1 or n_weekdays):
        raise bad("interval", "A daily event repeats every day.")


class ScheduledEventsMixin(PermissionsMixin, UsersMixin):
    MAX_SCHEDULED_EVENTS = 100

    def route_table(self) -> list[RouteSpec]:
        events = "/guilds/{guild_id}/scheduled-events"
        return [
            *super().route_table(),
            ("GET", events, self._list_events),
            ("POST", events, self._create_event),
            ("GET", events + "/{event_id}", self._get_event),
            ("PATCH", events + "/{event_id}", self._edit_event),
            ("DELETE", events + "/{event_id}", self._delete_event),
        ]

    async def _event_changed(self, event: str, ev: JSON) -> None:
        await self.dispatch(f"GUILD_SCHEDULED_EVENT_{event}", dict(ev))

    # routes -------------------------------------------------------------------------------
    async def _list_events(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).scheduled_events.values())

    async def _get_event(self, req: Req) -> JSON:
        g = self.guild(req.int_param("guild_id"))
        try:
            return g.scheduled_events[req.int_param("event_id")]
        except KeyError:
            raise unknown("Guild Scheduled Event", 10070) from None

    async def _create_event(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        g = self.guild(gid)
        self.require(gid, MANAGE_EVENTS)
        active = [e for e in g.scheduled_events.values() if e["status"] in (SCHEDULED, ACTIVE)]
        if len(active) >= self.MAX_SCHEDULED_EVENTS:
            raise ApiError(400, 30038, "Maximum number of guild scheduled events reached (100)")
        body = req.body()
        eid = self.next_id()
        ev: JSON = {
            "id": str(eid),
            "guild_id": str(gid),
            "channel_id": str(body["channel_id"]) if body.get("channel_id") else None,
            "creator_id": str(self.bot_user_id),
            "creator": self.user_payload(self.bot_user_id),
            "name": body.get("name", ""),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": SCHEDULED,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        validate_event(ev)
        g.scheduled_events[eid] = ev
        await self._event_changed("CREATE", ev)
        return ev

    async def _edit_event(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        self.require(gid, MANAGE_EVENTS)
        ev = await self._get_event(req)
        body = req.body()
        for key in _EDITABLE:
            if key in body:
                ev[key] = body[key]
        if "channel_id" in body:
            ev["channel_id"] = str(body["channel_id"]) if body["channel_id"] else None
        if body.get("status") is None:
            validate_event(ev)
        await self._event_changed("UPDATE", ev)
        return ev

    async def _delete_event(self, req: Req) -> None:
        gid = req.int_param("guild_id")
        self.require(gid, MANAGE_EVENTS)
        ev = await self._get_event(req)
        del self.guild(gid).scheduled_events[int(ev["id"])]
        await self._event_changed("DELETE", ev)
