"""Guild members: adding them, their payloads, and the member routes (roles, nick, timeout).
Kicks, bans and timeout limits are added by ``moderation.install``."""

from __future__ import annotations

from collections.abc import Iterable

from .common import JSON, now_iso
from .permissions import MANAGE_ROLES
from .roles import RolesMixin
from .routing import Req, RouteSpec
from .users import UsersMixin


def without_user(member: JSON | None) -> JSON:
    """A member as Discord nests it beside its user (messages, resolved data): no "user"."""
    return {k: v for k, v in (member or {}).items() if k != "user"}


class MembersMixin(RolesMixin, UsersMixin):
    def route_table(self) -> list[RouteSpec]:
        member = "/guilds/{guild_id}/members/{user_id}"
        return [
            *super().route_table(),
            ("GET", "/guilds/{guild_id}/members", self._list_members),
            ("GET", member, self._get_member),
            ("PATCH", member, self._edit_member),
            ("PUT", member + "/roles/{role_id}", self._add_member_role),
            ("DELETE", member + "/roles/{role_id}", self._rm_member_role),
        ]

    def add_member(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        name: str | None = None,
        roles: Iterable[int] = (),
        permissions: int | None = None,
        nick: str | None = None,
        bot: bool = False,
    ) -> int:
        """Adds a member. ``permissions`` creates an extra role carrying those bits."""
        g = self.guild(guild_id)
        uid = user_id if user_id is not None else self.next_id()
        if uid not in self.users or name is not None:
            self.add_user(uid, name=name, bot=bot)
        role_ids = [int(r) for r in roles]
        if permissions is not None:
            role_ids.append(self.add_role(guild_id, f"perms-{uid % 10000}", permissions))
        g.members[uid] = {
            "user": self.user_payload(uid),
            "nick": nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in role_ids],
            "joined_at": now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        return uid

    def member_with_permissions(self, guild_id: int, user_id: int, channel_id: int | None) -> JSON:
        """The member as an interaction carries it: with their permissions where it happens."""
        member = dict(self.member(guild_id, user_id))
        perms = (
            self.permissions_in(channel_id, user_id)
            if channel_id is not None
            else self.base_permissions(guild_id, user_id)
        )
        member["permissions"] = str(perms)
        return member

    async def _member_updated(self, gid: int, member: JSON) -> None:
        await self.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(gid), **member})

    # routes -------------------------------------------------------------------------------
    async def _list_members(self, req: Req) -> list[JSON]:
        g = self.guild(req.int_param("guild_id"))
        limit = int(req.query.get("limit", "1"))
        after = int(req.query.get("after", "0"))
        members = sorted((uid, m) for uid, m in g.members.items() if uid > after)
        return [m for _, m in members[:limit]]

    async def _get_member(self, req: Req) -> JSON:
        return self.member(req.int_param("guild_id"), req.int_param("user_id"))

    async def _edit_member(self, req: Req) -> JSON:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        member = self.member(gid, uid)
        body = req.body()
        if "roles" in body and body["roles"] is not None:
            self.require(gid, MANAGE_ROLES)
            new = {str(int(r)) for r in body["roles"]}
            for rid in new.symmetric_difference(member["roles"]):
                self.require_role_below_bot(gid, int(rid))
            member["roles"] = sorted(new)
        if "nick" in body:
            member["nick"] = body["nick"]
        if "communication_disabled_until" in body:
            member["communication_disabled_until"] = body["communication_disabled_until"]
        await self._member_updated(gid, member)
        return member

    def _member_role(self, req: Req) -> tuple[int, JSON, int]:
        gid, uid, rid = (req.int_param(k) for k in ("guild_id", "user_id", "role_id"))
        member = self.member(gid, uid)
        self.role(gid, rid)
        self.require(gid, MANAGE_ROLES)
        self.require_role_below_bot(gid, rid)
        return gid, member, rid

    async def _add_member_role(self, req: Req) -> None:
        gid, member, rid = self._member_role(req)
        if str(rid) not in member["roles"]:
            member["roles"].append(str(rid))
            await self._member_updated(gid, member)

    async def _rm_member_role(self, req: Req) -> None:
        gid, member, rid = self._member_role(req)
        if str(rid) in member["roles"]:
            member["roles"].remove(str(rid))
            await self._member_updated(gid, member)
