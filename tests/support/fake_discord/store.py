"""The fake Discord's state store: ids, the containers every resource lives in, and the
look-ups that answer Discord's "Unknown ..." errors.

Each resource module (users, guilds, roles, channels, members, messages, ...) adds a mixin on
top of :class:`FakeState` with that resource's payloads and REST routes; the mixins a module
builds on are its base classes, and :class:`~.server.FakeDiscord` combines them all.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .common import JSON, now_iso, snowflake_at
from .errors import unknown
from .routing import RouteSpec


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, JSON] = field(default_factory=dict)
    channels: dict[int, JSON] = field(default_factory=dict)
    members: dict[int, JSON] = field(default_factory=dict)
    scheduled_events: dict[int, JSON] = field(default_factory=dict)
    commands: dict[int, JSON] = field(default_factory=dict)
    general_channel_id: int = 0
    bot_role_id: int = 0
    joined_at: str = field(default_factory=now_iso)


class FakeState:
    """State container; behaviour per Discord resource lives in the mixins built on it."""

    SNOWFLAKE_START = 1_100_000_000_000_000_000

    #: When True, new ids are snowflakes of the current wall-clock time (still increasing),
    #: so `history(after=<datetime>)` finds messages the way it does on Discord. The crash
    #: test needs this: the bot looks for an interrupted reminder by time.
    time_based_ids: bool = False

    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        super().__init__()  # cooperative: mixins beside the state (rate limits) set up too
        self._ids = itertools.count(self.SNOWFLAKE_START)
        self.bot_name = bot_name
        self.port = 0  # where the fake listens (REST and Gateway); set by start()
        self.users: dict[int, JSON] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, JSON] = {}  # every channel incl. DMs
        self.messages: dict[int, list[JSON]] = {}  # channel id -> messages in order
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.closed_dm_users: set[int] = set()
        self.global_commands: dict[int, JSON] = {}
        self.application_id = self.next_id()
        self.bot_user_id = self.application_id  # like modern Discord apps
        self.owner_user_id = self.next_id()
        self.token = "fake." + secrets.token_hex(8)

    async def dispatch(self, event: str, data: JSON) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def route_table(self) -> list[RouteSpec]:
        """The REST routes of every resource mixin (each extends its bases' list)."""
        return []

    # ids ----------------------------------------------------------------------------------
    def next_id(self) -> int:
        nid = next(self._ids)
        if self.time_based_ids:
            stamp = snowflake_at(datetime.now(UTC))
            if stamp > nid:
                self._ids = itertools.count(stamp + 1)
                nid = stamp
        return nid

    # look-ups -----------------------------------------------------------------------------
    def guild(self, guild_id: int) -> FakeGuild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise unknown("Guild", 10004) from None

    def channel(self, channel_id: int | str) -> JSON:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown("Channel", 10003) from None

    def member(self, guild_id: int, user_id: int) -> JSON:
        g = self.guild(guild_id)
        try:
            return g.members[int(user_id)]
        except (KeyError, ValueError):
            raise unknown("Member", 10007) from None

    def role(self, guild_id: int, role_id: int) -> JSON:
        g = self.guild(guild_id)
        try:
            return g.roles[int(role_id)]
        except (KeyError, ValueError):
            raise unknown("Role", 10011) from None
