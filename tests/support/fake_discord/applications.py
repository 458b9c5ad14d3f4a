"""The application: GET /applications/@me, and its slash / context-menu commands (global and
per guild), as synced by discord.py's tree."""

from __future__ import annotations

from .common import JSON
from .errors import invalid_form, unknown
from .routing import Req, RouteSpec
from .users import UsersMixin


class ApplicationsMixin(UsersMixin):
    def route_table(self) -> list[RouteSpec]:
        guild_commands = "/applications/{app}/guilds/{guild_id}/commands"
        return [
            *super().route_table(),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("POST", "/applications/{app}/commands", self._post_command),
            ("GET", guild_commands, self._get_commands),
            ("PUT", guild_commands, self._put_commands),
            ("POST", guild_commands, self._post_command),
        ]

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

    # routes -------------------------------------------------------------------------------
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
        key = (body["name"], body.get("type", 1))
        existing = next((c for c in store.values() if (c["name"], c["type"]) == key), None)
        cid = int(existing["id"]) if existing else self.next_id()
        store[cid] = self._command_payload(body, cid, guild_id)
        return (200 if existing else 201), store[cid]
