"""REST route handlers of the fake Discord (paths relative to /api/v10)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .fake_discord_state import (
    CHANNEL_DM,
    CHANNEL_TEXT,
    JSON,
    MANAGE_CHANNELS,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    ApiError,
    FakeState,
    RecordedFile,
    normalise_overwrite,
    now_iso,
    unknown,
)

NONCE_WINDOW_SECONDS = 300.0


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[RecordedFile] = field(default_factory=list)

    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {name: {"_errors": [{"code": "NUMBER_TYPE_COERCE"}]}},
            ) from None


Handler = Callable[[Req], Awaitable[Any]]


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def compile_template(template: str) -> re.Pattern[str]:
    out = re.sub(
        r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    )
    return re.compile("^" + out + "$")


def invalid_form(field_name: str, message: str, code: str = "BASE_TYPE_INVALID") -> ApiError:
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {field_name: {"_errors": [{"code": code, "message": message}]}},
    )


class RestMixin(FakeState):
    """Discord REST behaviour. ``self.gateway_url`` is provided by the server class."""

    @property
    def gateway_url(self) -> str:
        return ""  # overridden by the server class

    #: When True, role/channel operations check the bot's permissions & role hierarchy.
    enforce_permissions: bool = True
    #: How long (monotonic seconds) a nonce sent with `enforce_nonce` is remembered.
    nonce_window_seconds: float = NONCE_WINDOW_SECONDS
    #: The shard count GET /gateway/bot recommends (a bot without SHARD_COUNT uses it).
    recommended_shards: int = 1

    def _init_rest(self) -> None:
        self._nonces: dict[tuple[int, str], tuple[float, JSON]] = {}
        self.routes: list[Route] = []
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/users/{user_id}", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("POST", "/applications/{app}/commands", self._post_command),
            ("GET", "/applications/{app}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/applications/{app}/guilds/{guild_id}/commands", self._post_command),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("POST", "/guilds/{guild_id}/roles", self._create_role),
            ("PATCH", "/guilds/{guild_id}/roles", self._move_roles),
            ("GET", "/guilds/{guild_id}/roles/{role_id}", self._get_role),
            ("PATCH", "/guilds/{guild_id}/roles/{role_id}", self._edit_role),
            ("DELETE", "/guilds/{guild_id}/roles/{role_id}", self._delete_role),
            ("GET", "/guilds/{guild_id}/members", self._list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("PATCH", "/guilds/{guild_id}/members/{user_id}", self._edit_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._add_member_role),
            (
                "DELETE",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                self._rm_member_role,
            ),
            ("GET", "/guilds/{guild_id}/channels", self._get_channels),
            ("POST", "/guilds/{guild_id}/channels", self._create_channel),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("PATCH", "/channels/{channel_id}", self._edit_channel),
            ("DELETE", "/channels/{channel_id}", self._delete_channel),
            ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", self._put_overwrite),
            ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", self._del_overwrite),
            ("GET", "/channels/{channel_id}/messages", self._history),
            ("POST", "/channels/{channel_id}/messages", self._send_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._no_content,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._no_content,
            ),
            ("GET", "/guilds/{guild_id}/scheduled-events", self._list_events),
            ("POST", "/guilds/{guild_id}/scheduled-events", self._create_event),
            ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", self._get_event),
            ("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", self._edit_event),
            ("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", self._delete_event),
        ]
        for method, template, handler in table:
            self.routes.append(Route(method, template, compile_template(template), handler))
        self._init_interaction_routes()

    def _init_interaction_routes(self) -> None:
        """Overridden by the interaction mixin to append its routes."""

    def add_route(self, method: str, template: str, handler: Handler) -> None:
        """Tests may register extra routes (inserted first, so they win)."""
        self.routes.insert(0, Route(method.upper(), template, compile_template(template), handler))

    def match_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    # Discord's limits: channels per server (categories count, threads don't) and
    # permission overwrites per channel.
    MAX_GUILD_CHANNELS = 500
    MAX_CHANNEL_OVERWRITES = 100

    def guild_channel_count(self, guild_id: int) -> int:
        return sum(
            1 for c in self.guild(guild_id).channels.values() if c["type"] not in (10, 11, 12)
        )

    def _check_overwrite_count(self, overwrites: list[JSON]) -> None:
        if len(overwrites) > self.MAX_CHANNEL_OVERWRITES:
            raise invalid_form(
                "permission_overwrites",
                f"Must be {self.MAX_CHANNEL_OVERWRITES} or fewer in length.",
                "BASE_TYPE_MAX_LENGTH",
            )

    # permission helpers -------------------------------------------------------------------
    def _require(self, guild_id: int, perm: int, channel_id: int | None = None) -> None:
        if not self.enforce_permissions:
            return
        if channel_id is not None:
            perms = self.permissions_in(channel_id, self.bot_user_id)
            if not perms & VIEW_CHANNEL:
                raise ApiError(403, 50001, "Missing Access")
        else:
            perms = self.base_permissions(guild_id, self.bot_user_id)
        if perms & perm != perm:
            raise ApiError(403, 50013, "Missing Permissions")

    def _require_role_below_bot(self, guild_id: int, role_id: int) -> None:
        if not self.enforce_permissions:
            return
        g = self.guild(guild_id)
        if g.owner_id == self.bot_user_id:
            return
        if self.role(guild_id, role_id)["position"] >= self.top_role_position(
            guild_id, self.bot_user_id
        ):
            raise ApiError(403, 50013, "Missing Permissions")

    # misc ---------------------------------------------------------------------------------
    async def _no_content(self, req: Req) -> None:
        return None

    async def _get_me(self, req: Req) -> JSON:
        return {
            **self.user_payload(self.bot_user_id),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "bio": "",
        }

    async def _get_user(self, req: Req) -> JSON:
        uid = req.int_param("user_id")
        if uid not in self.users:
            raise unknown("User", 10013)
        return self.user_payload(uid)

    async def _get_gateway(self, req: Req) -> JSON:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: Req) -> JSON:
        return {
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    async def _get_application(self, req: Req) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.users[self.bot_user_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.user_payload(self.owner_user_id),
            "team": None,
            "bot": self.user_payload(self.bot_user_id),
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    # application commands -----------------------------------------------------------------
    def _command_store(self, req: Req) -> tuple[dict[int, JSON], int | None]:
        if req.params.get("app") != str(self.application_id):
            raise unknown("Application", 10002)
        if "guild_id" in req.params:
            g = self.guild(req.int_param("guild_id"))
            return g.commands, g.id
        return self.global_commands, None

    def _command_payload(self, body: JSON, cid: int, guild_id: int | None) -> JSON:
        cmd: JSON = {
            "id": str(cid),
            "application_id": str(self.application_id),
            "version": str(self.next_id()),
            "type": body.get("type", 1),
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options") or [],
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "dm_permission": body.get("dm_permission", True),
        }
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
        return cmd

    async def _get_commands(self, req: Req) -> list[JSON]:
        store, _ = self._command_store(req)
        return list(store.values())

    async def _put_commands(self, req: Req) -> list[JSON]:
        store, guild_id = self._command_store(req)
        if not isinstance(req.json, list):
            raise invalid_form("_root", "expected an array")
        old = {(c["name"], c["type"]): int(c["id"]) for c in store.values()}
        store.clear()
        for body in req.json:
            key = (body["name"], body.get("type", 1))
            cid = old.get(key) or self.next_id()
            store[cid] = self._command_payload(body, cid, guild_id)
        return list(store.values())

    async def _post_command(self, req: Req) -> tuple[int, JSON]:
        store, guild_id = self._command_store(req)
        body = req.body()
        existing = next(
            (
                c
                for c in store.values()
                if (c["name"], c["type"]) == (body["name"], body.get("type", 1))
            ),
            None,
        )
        cid = int(existing["id"]) if existing else self.next_id()
        store[cid] = self._command_payload(body, cid, guild_id)
        return (200 if existing else 201), store[cid]

    def find_command(self, name: str, guild_id: int | None = None, type: int = 1) -> JSON | None:
        """A synced command by name (guild commands win over global ones)."""
        stores: list[dict[int, JSON]] = []
        if guild_id is not None and guild_id in self.guilds:
            stores.append(self.guilds[guild_id].commands)
        stores.append(self.global_commands)
        for store in stores:
            for cmd in store.values():
                if cmd["name"] == name and cmd["type"] == type:
                    return cmd
        return None

    # guilds / roles -----------------------------------------------------------------------
    async def _get_guild(self, req: Req) -> JSON:
        g = self.guild(req.int_param("guild_id"))
        data = self.guild_payload(g.id, full=False)
        if req.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(g.members)
            data["approximate_presence_count"] = 0
        return data

    async def _get_roles(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).roles.values())

    async def _get_role(self, req: Req) -> JSON:
        return self.role(req.int_param("guild_id"), req.int_param("role_id"))

    _ROLE_FIELDS = ("name", "color", "colors", "hoist", "mentionable", "icon", "unicode_emoji")

    def _apply_role_fields(self, role: JSON, body: JSON) -> None:
        for key in self._ROLE_FIELDS:
            if key in body and body[key] is not None:
                role[key] = body[key]
        if body.get("permissions") is not None:
            role["permissions"] = str(int(body["permissions"]))
        if "color" in body and body["color"] is not None:
            role["colors"] = {**role["colors"], "primary_color": body["color"]}

    async def _create_role(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        g = self.guild(gid)
        self._require(gid, MANAGE_ROLES)
        if len(g.roles) >= 250:
            raise ApiError(400, 30005, "Maximum number of guild roles reached (250)")
        for role in g.roles.values():
            if int(role["id"]) != gid and role["position"] >= 1:
                role["position"] += 1
        rid = self.add_role(gid, "new role", 0, 1)
        role = g.roles[rid]
        self._apply_role_fields(role, req.body())
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(gid), "role": dict(role)})
        return role

    async def _move_roles(self, req: Req) -> list[JSON]:
        gid = req.int_param("guild_id")
        self._require(gid, MANAGE_ROLES)
        for item in req.json if isinstance(req.json, list) else []:
            role = self.role(gid, int(item["id"]))
            if item.get("position") is not None:
                role["position"] = int(item["position"])
                await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(gid), "role": dict(role)})
        return list(self.guild(gid).roles.values())

    async def _edit_role(self, req: Req) -> JSON:
        gid, rid = req.int_param("guild_id"), req.int_param("role_id")
        self._require(gid, MANAGE_ROLES)
        role = self.role(gid, rid)
        self._require_role_below_bot(gid, rid)
        self._apply_role_fields(role, req.body())
        await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(gid), "role": dict(role)})
        return role

    async def _delete_role(self, req: Req) -> None:
        gid, rid = req.int_param("guild_id"), req.int_param("role_id")
        self._require(gid, MANAGE_ROLES)
        self.role(gid, rid)
        self._require_role_below_bot(gid, rid)
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

    # members ------------------------------------------------------------------------------
    async def _list_members(self, req: Req) -> list[JSON]:
        g = self.guild(req.int_param("guild_id"))
        limit = int(req.query.get("limit", "1"))
        after = int(req.query.get("after", "0"))
        members = sorted((uid, m) for uid, m in g.members.items() if uid > after)
        return [m for _, m in members[:limit]]

    async def _get_member(self, req: Req) -> JSON:
        return self.member(req.int_param("guild_id"), req.int_param("user_id"))

    async def _member_updated(self, gid: int, member: JSON) -> None:
        await self.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(gid), **member})

    async def _edit_member(self, req: Req) -> JSON:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        member = self.member(gid, uid)
        body = req.body()
        if "roles" in body and body["roles"] is not None:
            self._require(gid, MANAGE_ROLES)
            new = {str(int(r)) for r in body["roles"]}
            for rid in new.symmetric_difference(member["roles"]):
                self._require_role_below_bot(gid, int(rid))
            member["roles"] = sorted(new)
        if "nick" in body:
            member["nick"] = body["nick"]
        if "communication_disabled_until" in body:
            member["communication_disabled_until"] = body["communication_disabled_until"]
        await self._member_updated(gid, member)
        return member

    async def _add_member_role(self, req: Req) -> None:
        gid, uid, rid = (req.int_param(k) for k in ("guild_id", "user_id", "role_id"))
        member = self.member(gid, uid)
        self.role(gid, rid)
        self._require(gid, MANAGE_ROLES)
        self._require_role_below_bot(gid, rid)
        if str(rid) not in member["roles"]:
            member["roles"].append(str(rid))
            await self._member_updated(gid, member)

    async def _rm_member_role(self, req: Req) -> None:
        gid, uid, rid = (req.int_param(k) for k in ("guild_id", "user_id", "role_id"))
        member = self.member(gid, uid)
        self.role(gid, rid)
        self._require(gid, MANAGE_ROLES)
        self._require_role_below_bot(gid, rid)
        if str(rid) in member["roles"]:
            member["roles"].remove(str(rid))
            await self._member_updated(gid, member)

    # channels -----------------------------------------------------------------------------
    async def _get_channels(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).channels.values())

    async def _create_channel(self, req: Req) -> tuple[int, JSON]:
        gid = req.int_param("guild_id")
        self._require(gid, MANAGE_CHANNELS)
        body = req.body()
        if not body.get("name"):
            raise invalid_form("name", "This field is required", "BASE_TYPE_REQUIRED")
        if self.guild_channel_count(gid) >= self.MAX_GUILD_CHANNELS:
            raise ApiError(
                400, 30013, f"Maximum number of guild channels reached ({self.MAX_GUILD_CHANNELS})"
            )
        self._check_overwrite_count(body.get("permission_overwrites") or [])
        cid = self.add_text_channel(
            gid,
            body["name"],
            type=int(body.get("type") or CHANNEL_TEXT),
            parent_id=int(body["parent_id"]) if body.get("parent_id") else None,
            permission_overwrites=body.get("permission_overwrites") or [],
            topic=body.get("topic"),
            position=body.get("position"),
        )
        channel = self.channels[cid]
        await self.dispatch("CHANNEL_CREATE", dict(channel))
        return 201, channel

    async def _get_channel(self, req: Req) -> JSON:
        return self.channel(req.int_param("channel_id"))

    def _guild_channel(self, req: Req, perm: int) -> tuple[int, JSON]:
        channel = self.channel(req.int_param("channel_id"))
        if "guild_id" not in channel:
            raise ApiError(403, 50003, "Cannot execute action on a DM channel")
        gid = int(channel["guild_id"])
        self._require(gid, perm)
        return gid, channel

    async def _edit_channel(self, req: Req) -> JSON:
        _, channel = self._guild_channel(req, MANAGE_CHANNELS)
        body = req.body()
        for key in ("name", "topic", "position", "nsfw", "rate_limit_per_user"):
            if key in body:
                channel[key] = body[key]
        if "parent_id" in body:
            channel["parent_id"] = str(body["parent_id"]) if body["parent_id"] else None
        if body.get("permission_overwrites") is not None:
            self._check_overwrite_count(body["permission_overwrites"])
            channel["permission_overwrites"] = [
                normalise_overwrite(o) for o in body["permission_overwrites"]
            ]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))
        return channel

    async def _delete_channel(self, req: Req) -> JSON:
        gid, channel = self._guild_channel(req, MANAGE_CHANNELS)
        cid = int(channel["id"])
        del self.guild(gid).channels[cid]
        del self.channels[cid]
        await self.dispatch("CHANNEL_DELETE", dict(channel))
        return channel

    async def _put_overwrite(self, req: Req) -> None:
        _, channel = self._guild_channel(req, MANAGE_ROLES)
        body = req.body()
        ow = normalise_overwrite({**body, "id": req.params["overwrite_id"]})
        others = [o for o in channel["permission_overwrites"] if o["id"] != ow["id"]]
        self._check_overwrite_count([*others, ow])
        channel["permission_overwrites"] = [*others, ow]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))

    async def _del_overwrite(self, req: Req) -> None:
        _, channel = self._guild_channel(req, MANAGE_ROLES)
        oid = req.params["overwrite_id"]
        channel["permission_overwrites"] = [
            o for o in channel["permission_overwrites"] if o["id"] != oid
        ]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))

    # messages -----------------------------------------------------------------------------
    async def _create_dm(self, req: Req) -> JSON:
        uid = int(req.body().get("recipient_id", 0))
        if uid not in self.users:
            raise unknown("User", 10013)
        return self.channel(self.dm_channel_for(uid))

    def _check_send(self, channel: JSON) -> None:
        if channel["type"] == CHANNEL_DM:
            recipient = int(channel["recipients"][0]["id"])
            if recipient in self.closed_dm_users:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        if "guild_id" in channel and self.enforce_permissions:
            perms = self.permissions_in(int(channel["id"]), self.bot_user_id)
            if not perms & VIEW_CHANNEL:
                raise ApiError(403, 50001, "Missing Access")
            if not perms & SEND_MESSAGES:
                raise ApiError(403, 50013, "Missing Permissions")

    async def _send_message(self, req: Req) -> JSON:
        cid = req.int_param("channel_id")
        channel = self.channel(cid)
        self._check_send(channel)
        body = req.body()
        if not (
            body.get("content")
            or body.get("embeds")
            or req.files
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        nonce = body.get("nonce")
        key = (cid, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            hit = self._nonces.get(key)
            if hit and time.monotonic() - hit[0] < self.nonce_window_seconds:
                return hit[1]
        msg = self.store_message(self.message_payload(cid, body, attachments=req.files))
        if nonce is not None:
            self._nonces[key] = (time.monotonic(), msg)
        await self.dispatch("MESSAGE_CREATE", {**msg, **self._message_event_extra(channel)})
        return msg

    def _message_event_extra(self, channel: JSON) -> JSON:
        if "guild_id" not in channel:
            return {}
        member = self.guild(int(channel["guild_id"])).members.get(self.bot_user_id)
        return {"member": {k: v for k, v in (member or {}).items() if k != "user"}}

    async def _history(self, req: Req) -> list[JSON]:
        cid = req.int_param("channel_id")
        self.channel(cid)
        limit = int(req.query.get("limit", "50"))
        msgs = list(reversed(self.messages.get(cid, [])))
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])]
        return msgs[:limit]

    async def _get_message(self, req: Req) -> JSON:
        return self.find_message(req.int_param("channel_id"), req.params["message_id"])

    def apply_message_edit(self, msg: JSON, body: JSON, files: list[RecordedFile]) -> None:
        for key in ("content", "embeds", "components", "flags"):
            if key in body and body[key] is not None:
                msg[key] = body[key]
        if "attachments" in body or files:
            keep = {str(a.get("id")) for a in body.get("attachments") or []}
            existing = [a for a in msg["attachments"] if a["id"] in keep]
            fresh = self.message_payload(int(msg["channel_id"]), body, attachments=files)
            msg["attachments"] = existing + fresh["attachments"]
        msg["edited_timestamp"] = now_iso()

    async def _edit_message(self, req: Req) -> JSON:
        cid = req.int_param("channel_id")
        msg = self.find_message(cid, req.params["message_id"])
        if msg["author"]["id"] != str(self.bot_user_id):
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self.apply_message_edit(msg, req.body(), req.files)
        await self.dispatch("MESSAGE_UPDATE", dict(msg))
        return msg

    async def _delete_message(self, req: Req) -> None:
        cid = req.int_param("channel_id")
        msg = self.find_message(cid, req.params["message_id"])
        if msg["author"]["id"] != str(self.bot_user_id) and "guild_id" in msg:
            # Someone else's message: Discord wants Manage Messages in that channel.
            self._require(int(msg["guild_id"]), MANAGE_MESSAGES, cid)
        self.messages[cid].remove(msg)
        event: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if "guild_id" in msg:
            event["guild_id"] = msg["guild_id"]
        await self.dispatch("MESSAGE_DELETE", event)

    # scheduled events ---------------------------------------------------------------------
    async def _list_events(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).scheduled_events.values())

    async def _get_event(self, req: Req) -> JSON:
        g = self.guild(req.int_param("guild_id"))
        try:
            return g.scheduled_events[req.int_param("event_id")]
        except KeyError:
            raise unknown("Guild Scheduled Event", 10070) from None

    def _validate_event(self, ev: JSON) -> None:
        start = datetime.fromisoformat(ev["scheduled_start_time"])
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if ev["status"] == 1 and start < datetime.now(UTC):
            raise invalid_form(
                "scheduled_start_time",
                "Cannot schedule event in the past.",
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
            )
        if ev["entity_type"] == 3:
            if not (ev.get("entity_metadata") or {}).get("location"):
                raise invalid_form(
                    "entity_metadata.location", "This field is required", "BASE_TYPE_REQUIRED"
                )
            if not ev.get("scheduled_end_time"):
                raise invalid_form(
                    "scheduled_end_time", "This field is required", "BASE_TYPE_REQUIRED"
                )
        elif not ev.get("channel_id"):
            raise invalid_form("channel_id", "This field is required", "BASE_TYPE_REQUIRED")
        if ev.get("recurrence_rule") is not None:
            self._validate_recurrence(ev["recurrence_rule"], start)

    @staticmethod
    def _validate_recurrence(rule: JSON, start: datetime) -> None:
        """Discord's documented system limitations on recurrence rules (the schema alone
        allows far more): an app can't set `end`, `count` or `by_year_day`; by_weekday and
        by_n_weekday exclude each other; by_month/by_month_day are yearly only and go
        together; weekly is one day every week or every other week; monthly is one nth
        weekday (n 1-5) every month; yearly is one date every year. The rule starts when
        the event does."""

        def bad(field: str, message: str) -> ApiError:
            return invalid_form(
                f"recurrence_rule.{field}", message, "GUILD_SCHEDULED_EVENT_RECURRENCE"
            )

        for name in ("end", "count", "by_year_day"):
            if rule.get(name) is not None:
                raise bad(name, "This field can't be set by applications.")
        rule_start = datetime.fromisoformat(rule["start"])
        if rule_start.tzinfo is None:
            rule_start = rule_start.replace(tzinfo=UTC)
        if rule_start != start:
            raise bad("start", "The recurrence must start when the event starts.")
        frequency = rule["frequency"]
        interval = rule.get("interval") or 1
        weekdays = rule.get("by_weekday")
        n_weekdays = rule.get("by_n_weekday")
        months, month_days = rule.get("by_month"), rule.get("by_month_day")
        if weekdays and n_weekdays:
            raise bad("by_weekday", "by_weekday and by_n_weekday can't be combined.")
        if (months or month_days) and frequency != 0:
            raise bad("by_month", "by_month and by_month_day are for yearly events only.")
        if frequency == 2:  # WEEKLY
            if interval not in (1, 2):
                raise bad("interval", "A weekly event repeats every week or every other week.")
            if not weekdays or len(weekdays) != 1 or n_weekdays:
                raise bad("by_weekday", "A weekly event repeats on exactly one day.")
        elif frequency == 1:  # MONTHLY
            if interval != 1:
                raise bad("interval", "A monthly event repeats every month.")
            if not n_weekdays or len(n_weekdays) != 1 or weekdays:
                raise bad("by_n_weekday", "A monthly event repeats on one nth weekday.")
        elif frequency == 0:  # YEARLY
            if (
                interval != 1
                or not months
                or not month_days
                or len(months) != 1
                or len(month_days) != 1
            ):
                raise bad("by_month", "A yearly event repeats on one date.")
        elif frequency == 3 and (interval != 1 or n_weekdays):  # DAILY
            raise bad("interval", "A daily event repeats every day.")

    async def _create_event(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        g = self.guild(gid)
        self._require(gid, MANAGE_EVENTS)
        active = [e for e in g.scheduled_events.values() if e["status"] in (1, 2)]
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
            "status": 1,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        self._validate_event(ev)
        g.scheduled_events[eid] = ev
        await self.dispatch("GUILD_SCHEDULED_EVENT_CREATE", dict(ev))
        return ev

    async def _edit_event(self, req: Req) -> JSON:
        gid = req.int_param("guild_id")
        self._require(gid, MANAGE_EVENTS)
        ev = await self._get_event(req)
        body = req.body()
        for key in (
            "name",
            "description",
            "scheduled_start_time",
            "scheduled_end_time",
            "privacy_level",
            "status",
            "entity_type",
            "entity_metadata",
            "recurrence_rule",
        ):
            if key in body:
                ev[key] = body[key]
        if "channel_id" in body:
            ev["channel_id"] = str(body["channel_id"]) if body["channel_id"] else None
        if body.get("status") is None:
            self._validate_event(ev)
        await self.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", dict(ev))
        return ev

    async def _delete_event(self, req: Req) -> None:
        gid = req.int_param("guild_id")
        self._require(gid, MANAGE_EVENTS)
        ev = await self._get_event(req)
        del self.guild(gid).scheduled_events[int(ev["id"])]
        await self.dispatch("GUILD_SCHEDULED_EVENT_DELETE", dict(ev))
