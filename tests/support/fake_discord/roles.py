"""Roles: payloads, creation, and the /guilds/{id}/roles routes."""

from __future__ import annotations

from typing import Any

from .common import JSON
from .errors import ApiError
from .permissions import MANAGE_ROLES, PermissionsMixin
from .routing import Req, RouteSpec

MAX_GUILD_ROLES = 250


def role_payload(role_id: int, name: str, permissions: int, position: int) -> JSON:
    return {
        "id": str(role_id),
        "name": name,
        "description": None,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


_ROLE_FIELDS = ("name", "color", "colors", "hoist", "mentionable", "icon", "unicode_emoji")


def apply_role_fields(role: JSON, body: JSON) -> None:
    for key in _ROLE_FIELDS:
        if key in body and body[key] is not None:
            role[key] = body[key]
    if body.get("permissions") is not None:
        role["permissions"] = str(int(body["permissions"]))
    if "color" in body and body["color"] is not None:
        role["colors"] = {**role["colors"], "primary_color": body["color"]}


class RolesMixin(PermissionsMixin):
    def route_table(self) -> list[RouteSpec]:
        return [
            *super().route_table(),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("POST", "/guilds/{guild_id}/roles", self._create_role),
            ("PATCH", "/guilds/{guild_id}/roles", self._move_roles),
            ("GET", "/guilds/{guild_id}/roles/{role_id}", self._get_role),
            ("PATCH", "/guilds/{guild_id}/roles/{role_id}", self._edit_role),
            ("DELETE", "/guilds/{guild_id}/roles/{role_id}", self._delete_role),
        ]

    def add_role(
        self,
        guild_id: int,
        name: str,
        permissions: int = 0,
        position: int | None = None,
        **extra: Any,
    ) -> int:
        g = self.guild(guild_id)
        rid = self.next_id()
        if position is None:
            position = max((r["position"] for r in g.roles.values()), default=0) + 1
        g.roles[rid] = {**role_payload(rid, name, permissions, position), **extra}
        return rid

    def role_named(self, guild_id: int, name: str) -> JSON | None:
        return next((r for r in self.guild(guild_id).roles.values() if r["name"] == name), None)

    async def _role_event(self, event: str, guild_id: int, role: JSON) -> None:
        await self.dispatch(event, {"guild_id": str(guild_id), "role": dict(role)})

    # routes -------------------------------------------------------------------------------
    async def _get_roles(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).roles.values())

    async def _get_role(self, req: Req) -> JSON:
        return self.role(req.int_param("guild_id"), req.int_param("role_id"))

    async def _create_role(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        g = self.guild(gid)
        self.require(gid, MANAGE_ROLES)
        if len(g.roles) >= MAX_GUILD_ROLES:
            raise ApiError(400, 30005, f"Maximum number of guild roles reached ({MAX_GUILD_ROLES})")
        for role in g.roles.values():
            if int(role["id"]) != gid and role["position"] >= 1:
                role["position"] += 1
        rid = self.add_role(gid, "new role", 0, 1)
        role = g.roles[rid]
        apply_role_fields(role, req.body())
        await self._role_event("GUILD_ROLE_CREATE", gid, role)
        return role

    async def _move_roles(self, req: Req) -> list[JSON]:
        gid = req.int_param("guild_id")
        self.require(gid, MANAGE_ROLES)
        for item in req.json if isinstance(req.json, list) else []:
            role = self.role(gid, int(item["id"]))
            if item.get("position") is not None:
                role["position"] = int(item["position"])
                await self._role_event("GUILD_ROLE_UPDATE", gid, role)
        return list(self.guild(gid).roles.values())

    async def _edit_role(self, req: Req) -> JSON:
        gid, rid = req.int_param("guild_id"), req.int_param("role_id")
        self.require(gid, MANAGE_ROLES)
        role = self.role(gid, rid)
        self.require_role_below_bot(gid, rid)
        apply_role_fields(role, req.body())
        await self._role_event("GUILD_ROLE_UPDATE", gid, role)
        return role

    async def _delete_role(self, req: Req) -> None:
        gid, rid = req.int_param("guild_id"), req.int_param("role_id")
        self.require(gid, MANAGE_ROLES)
        self.role(gid, rid)
        self.require_role_below_bot(gid, rid)
        g = self.guild(gid)
        del g.roles[rid]
        for channel in g.channels.values():  # as on Discord, the role's overwrites go with it
            kept = [o for o in channel["permission_overwrites"] if o["id"] != str(rid)]
            if len(kept) != len(channel["permission_overwrites"]):
                channel["permission_overwrites"] = kept
                await self.dispatch("CHANNEL_UPDATE", dict(channel))
        for member in g.members.values():
            if str(rid) in member["roles"]:
                member["roles"].remove(str(rid))
        await self.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(gid), "role_id": str(rid)})
