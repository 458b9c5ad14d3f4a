"""In-process fakes for service tests: a movable clock and a recording Discord port."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from familybot.errors import ChannelGone, DiscordActionFailed
from familybot.models import Resource
from familybot.models.events import EventSpec
from familybot.models.groups import GroupSpace
from familybot.models.notices import Notice
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget

# How long the emulated Discord remembers a message nonce (`enforce_nonce`): a send with a
# nonce seen within this window returns the first message and posts nothing new. Discord
# documents "a few minutes"; the bot assumes 2 (services/reminders/sender.py, NONCE_MEMORY), so does the fake.
NONCE_WINDOW = timedelta(minutes=2)


class ProcessKilled(BaseException):
    """The process died right here (think kill -9): nothing after it runs or commits.

    A BaseException, so `except Exception` in the code under test does not swallow it.
    """


@dataclass(frozen=True)
class SentReminder:
    """A reminder message that reached Discord (after nonce dedup)."""

    message_id: int
    target: ReminderTarget
    card: ReminderCard
    nonce: str
    at: datetime


def where(target: ReminderTarget) -> str:
    """The Discord channel a reminder goes to: a group channel or a person's DMs."""
    if target.channel_id is not None:
        return f"channel:{target.channel_id}"
    return f"dm:{target.user_id}"


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant


@dataclass
class RecordingPort:
    """Implements every feature's port (wiring.AllPorts); records every call, can be told to fail or to refuse DMs."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    dms: list[tuple[int, Notice]] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)
    fail: set[str] = field(default_factory=set)
    roles: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (guild, user) -> roles
    # channel -> {user: "rw" | "ro"}: who has their own access to a group's channel
    access: dict[int, dict[int, str]] = field(default_factory=dict)
    gone_channels: set[int] = field(default_factory=set)  # deleted on "Discord"
    undeletable_roles: set[int] = field(default_factory=set)  # Discord refuses to delete
    join_requests_removed_at: list[datetime | None] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    # --- reminders (optional: only tests of the dispatcher use these) ---
    clock: FakeClock | None = None  # Discord's "now" for nonce memory and message times
    notices: list[tuple[int, Notice]] = field(default_factory=list)
    reminders: list[SentReminder] = field(default_factory=list)  # what reached Discord
    # Outcome of the next send_reminder calls, one entry per call (then "ok"):
    #   "ok"          posted (or answered with the first message for a remembered nonce)
    #   "fail"        refused before reaching Discord, worth retrying -> Delivery(ok=False)
    #   "refuse"      permanently refused (DMs closed) -> Delivery(ok=False, permanent=True)
    #   "raise"       connection error before reaching Discord -> raises DiscordActionFailed
    #   "lost_raise"  reached Discord, then the response was lost -> raises TimeoutError
    #   "lost_fail"   reached Discord, then a 5xx came back -> Delivery(ok=False)
    #   "kill"        reached Discord, then the process died -> raises ProcessKilled
    reminder_script: list[str] = field(default_factory=list)
    reminder_attempts: list[tuple[str, ReminderCard]] = field(default_factory=list)
    nonce_window: timedelta = NONCE_WINDOW
    _nonces: dict[tuple[str, str], tuple[datetime, int]] = field(default_factory=dict)
    # --- the review digest: posts with nonces; "kill" posts, then the process dies ---
    digest_script: list[str] = field(default_factory=list)
    # (channel, nonce, message id, when, notice) of each digest Discord took
    digest_posts: list[tuple[int, str, int, datetime, Notice]] = field(default_factory=list)
    history_reads: int = 0  # find_posted requests
    # Live scheduled events: id -> (guild, spec).
    scheduled_events: dict[int, tuple[int, EventSpec]] = field(default_factory=dict)

    def _call(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise DiscordActionFailed(f"Discord refused {name} (test)")

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        self._call("create_group_space", guild_id, name, topic, tuple(facilitator_ids))
        space = GroupSpace(next(self._ids))
        self.access[space.channel_id] = {uid: "rw" for uid in facilitator_ids}
        return space

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        self._call("delete_group_space", guild_id, space)
        self.access.pop(space.channel_id, None)

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None:
        self._call("update_group_space", guild_id, space, name, topic)

    async def archive_group_space(
        self, guild_id: int, space: GroupSpace, reader_ids: Sequence[int]
    ) -> None:
        self._call("archive_group_space", guild_id, space, tuple(reader_ids))
        for uid in reader_ids:
            self.access.setdefault(space.channel_id, {})[uid] = "ro"

    async def grant_channel_access(
        self, guild_id: int, channel_id: int, user_id: int, *, read_only: bool = False
    ) -> None:
        self._call("grant_channel_access", guild_id, channel_id, user_id)
        if channel_id in self.gone_channels:
            raise ChannelGone("The group's private channel no longer exists (test).")
        self.access.setdefault(channel_id, {})[user_id] = "ro" if read_only else "rw"

    async def revoke_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        self._call("revoke_channel_access", guild_id, channel_id, user_id)
        self.access.get(channel_id, {}).pop(user_id, None)

    def can_see(self, channel_id: int | None, user_id: int) -> bool:
        return channel_id is not None and user_id in self.access.get(channel_id, {})

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        self._call("remove_member_role", guild_id, user_id, role_id)
        self.roles.setdefault((guild_id, user_id), set()).discard(role_id)

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        self._call("delete_role", guild_id, role_id)
        if role_id in self.undeletable_roles:
            return False
        for held in self.roles.values():
            held.discard(role_id)
        return True

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        self.calls.append(("send_dm", (user_id, notice)))
        if user_id in self.closed_dms or "send_dm" in self.fail:
            return False
        self.dms.append((user_id, notice))
        return True

    async def post_join_request(
        self,
        guild_id: int,
        channel_id: int,
        group_id: int,
        group_name: str,
        user_id: int,
        *,
        removed_at: datetime | None = None,
    ) -> None:
        self._call("post_join_request", guild_id, channel_id, group_id, group_name, user_id)
        self.join_requests_removed_at.append(removed_at)

    async def create_scheduled_event(self, guild_id: int, spec: EventSpec) -> int:
        self._call("create_scheduled_event", guild_id, spec)
        event_id = next(self._ids)
        self.scheduled_events[event_id] = (guild_id, spec)
        return event_id

    async def edit_scheduled_event(self, guild_id: int, event_id: int, spec: EventSpec) -> bool:
        self._call("edit_scheduled_event", guild_id, event_id, spec)
        if event_id not in self.scheduled_events:
            return False
        self.scheduled_events[event_id] = (guild_id, spec)
        return True

    async def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        self._call("delete_scheduled_event", guild_id, event_id)
        self.scheduled_events.pop(event_id, None)

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        self.calls.append(("post_notice", (channel_id, notice)))
        if "post_notice" in self.fail:
            return False
        self.notices.append((channel_id, notice))
        return True

    async def post_once(self, channel_id: int, notice: Notice, nonce: str) -> int | None:
        self.calls.append(("post_once", (channel_id, notice, nonce)))
        if "post_notice" in self.fail:
            return None
        now, key = self._now(), (f"channel:{channel_id}", nonce)
        seen = self._nonces.get(key)
        if seen is not None and now - seen[0] <= self.nonce_window:
            return seen[1]  # enforce_nonce: the first message
        message_id = next(self._ids)
        self.notices.append((channel_id, notice))
        self.digest_posts.append((channel_id, nonce, message_id, now, notice))
        self._nonces[key] = (now, message_id)
        if (self.digest_script.pop(0) if self.digest_script else "ok") == "kill":
            raise ProcessKilled(f"killed after posting a digest channel={channel_id} (test)")
        return message_id

    async def find_posted(
        self, channel_id: int, titles: frozenset[str], nonce: str, after: datetime
    ) -> int | None:
        self.history_reads += 1  # Discord's history shows no nonce: found by its title
        for channel, _, message_id, at, shown in self.digest_posts:
            title = "".join(c for c in shown.title if not c.isdigit())
            if channel == channel_id and title in titles and at > after:
                return message_id
        return None

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def _post_reminder(self, target: ReminderTarget, card: ReminderCard, nonce: str) -> int:
        """Discord's side of a send: dedup by nonce within the window, else a new message."""
        now = self._now()
        key = (where(target), nonce)
        seen = self._nonces.get(key)
        if seen is not None and now - seen[0] <= self.nonce_window:
            return seen[1]
        message_id = next(self._ids)
        self.reminders.append(SentReminder(message_id, target, card, nonce, now))
        self._nonces[key] = (now, message_id)
        return message_id

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        self.calls.append(("send_reminder", (target, card, nonce)))
        outcome = self.reminder_script.pop(0) if self.reminder_script else "ok"
        if "send_reminder" in self.fail:
            outcome = "fail"
        self.reminder_attempts.append((outcome, card))
        if outcome == "fail":
            return Delivery(ok=False)
        if outcome == "refuse":
            return Delivery(ok=False, permanent=True)
        if outcome == "raise":
            raise DiscordActionFailed("Discord could not be reached (test)")
        message_id = self._post_reminder(target, card, nonce)
        if outcome == "lost_raise":
            raise TimeoutError("the message was stored, but its response was lost (test)")
        if outcome == "lost_fail":
            return Delivery(ok=False)
        if outcome == "kill":
            raise ProcessKilled(f"killed after sending ledger={card.ledger_id} (test)")
        return Delivery(ok=True, message_id=message_id)

    async def find_reminders(
        self, target: ReminderTarget, ledger_ids: Collection[int], after: datetime
    ) -> dict[int, int]:
        """Like channel history after `after`: messages whose buttons carry one of `ledger_ids`."""
        self.calls.append(("find_reminders", (target, tuple(sorted(ledger_ids)), after)))
        found: dict[int, int] = {}
        for message in self.reminders:
            if (
                where(message.target) == where(target)
                and message.card.ledger_id in ledger_ids
                and message.at > after
            ):
                found.setdefault(message.card.ledger_id, message.message_id)
        return found

    async def post_resource(self, channel_id: int, resource: Resource) -> bool:
        self.calls.append(("post_resource", (channel_id, resource)))
        return "post_resource" not in self.fail
