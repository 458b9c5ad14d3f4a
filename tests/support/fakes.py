"""In-process fakes for service tests: a movable clock and a recording Discord port."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from familybot.errors import DiscordActionFailed
from familybot.services.ports import GroupSpace, Notice


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
    """Implements DiscordPort; records every call, can be told to fail or to refuse DMs."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    dms: list[tuple[int, Notice]] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)
    fail: set[str] = field(default_factory=set)
    roles: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (guild, user) -> roles
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

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
        return GroupSpace(next(self._ids), next(self._ids))

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        self._call("delete_group_space", guild_id, space)

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None:
        self._call("update_group_space", guild_id, space, name, topic)

    async def archive_group_space(self, guild_id: int, space: GroupSpace) -> None:
        self._call("archive_group_space", guild_id, space)

    async def grant_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        self._call("grant_channel_access", guild_id, channel_id, user_id)

    async def add_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        self._call("add_member_role", guild_id, user_id, role_id)
        self.roles.setdefault((guild_id, user_id), set()).add(role_id)

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        self._call("remove_member_role", guild_id, user_id, role_id)
        self.roles.setdefault((guild_id, user_id), set()).discard(role_id)

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        self.calls.append(("send_dm", (user_id, notice)))
        if user_id in self.closed_dms or "send_dm" in self.fail:
            return False
        self.dms.append((user_id, notice))
        return True

    async def post_join_request(
        self, guild_id: int, channel_id: int, group_id: int, group_name: str, user_id: int
    ) -> None:
        self._call("post_join_request", guild_id, channel_id, group_id, group_name, user_id)
