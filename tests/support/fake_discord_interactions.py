"""Interaction injection (slash commands, buttons, selects, modals, context menus) and the
interaction callback / webhook endpoints the bot answers with."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from .fake_discord_rest import Req, RestMixin, Route, compile_template
from .fake_discord_state import JSON, ApiError, unknown

EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11


@dataclass(frozen=True)
class UserOpt:
    """Explicit option wrapper: a user (or member) snowflake."""

    id: int


@dataclass(frozen=True)
class RoleOpt:
    id: int


@dataclass(frozen=True)
class ChannelOpt:
    id: int


@dataclass(frozen=True)
class MentionableOpt:
    id: int


@dataclass
class InteractionHandle:
    """An injected interaction and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: JSON
    channel_id: int | None
    #: Every answer in order: dicts {"kind": callback|followup|edit|delete|get, "body": ...}.
    responses: list[JSON] = field(default_factory=list)
    callback: JSON | None = None
    original_message: JSON | None = None
    followups: list[JSON] = field(default_factory=list)
    _answered: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _record(self, kind: str, body: Any) -> None:
        self.responses.append({"kind": kind, "body": body})
        if kind == "callback":
            self.callback = body
            self._answered.set()
        async with self._changed:
            self._changed.notify_all()

    async def wait_response(self, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """The first callback body ``{"type": ..., "data": ...}`` once the bot answered."""
        try:
            await asyncio.wait_for(self._answered.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"bot did not answer interaction {self.id} "
                f"({self.payload.get('data', {}).get('name') or self.payload.get('data')}) "
                f"within {timeout}s"
            ) from None
        assert self.callback is not None
        return self.callback

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> list[JSON]:  # noqa: ASYNC109
        """Waits until at least ``count`` responses of ``kind`` (e.g. "followup") exist."""

        def ready() -> bool:
            return sum(1 for r in self.responses if r["kind"] == kind) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"interaction {self.id}: expected {count} {kind!r}, got {self.responses}"
                ) from None
        return [r["body"] for r in self.responses if r["kind"] == kind]

    @property
    def response_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def data(self) -> JSON:
        return (self.callback or {}).get("data") or {}

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def content(self) -> str | None:
        """Latest visible content: original message if any, else callback content."""
        if self.original_message is not None:
            return str(self.original_message.get("content") or "")
        return self.data.get("content")

    def all_bodies(self) -> list[Any]:
        return [r["body"] for r in self.responses]


class InteractionMixin(RestMixin):
    def _init_interaction_state(self) -> None:
        self.interactions: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}

    def _init_interaction_routes(self) -> None:
        for method, template, handler in (
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message_id}", self._get_webhook_msg),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message_id}", self._edit_webhook_msg),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message_id}", self._del_webhook_msg),
        ):
            self.routes.append(Route(method, template, compile_template(template), handler))

    # queries ------------------------------------------------------------------------------
    def interaction_responses(self, interaction_id: int) -> list[Any]:
        """Callback + followup/edit bodies for an interaction, in order."""
        return self.interactions[interaction_id].all_bodies()

    # building -----------------------------------------------------------------------------
    def _member_payload(self, guild_id: int, user_id: int, channel_id: int | None) -> JSON:
        member = dict(self.member(guild_id, user_id))
        perms = (
            self.permissions_in(channel_id, user_id)
            if channel_id is not None
            else self.base_permissions(guild_id, user_id)
        )
        member["permissions"] = str(perms)
        return member

    def _base_interaction(
        self,
        itype: int,
        guild_id: int,
        user_id: int,
        channel_id: int | None,
        data: JSON,
        *,
        locale: str = "en-US",
        message: JSON | None = None,
    ) -> InteractionHandle:
        g = self.guild(guild_id)
        cid = channel_id if channel_id is not None else g.general_channel_id
        channel = dict(self.channel(cid))
        iid = self.next_id()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(cid),
            "channel": {**channel, "permissions": str(self.permissions_in(cid, user_id))},
            "member": self._member_payload(guild_id, user_id, cid),
            "token": token,
            "version": 1,
            "app_permissions": str(self.permissions_in(cid, self.bot_user_id)),
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        handle = InteractionHandle(id=iid, token=token, type=itype, payload=payload, channel_id=cid)
        self.interactions[iid] = handle
        self._by_token[token] = handle
        return handle

    def _resolve_value(
        self, guild_id: int, channel_id: int | None, otype: int, value: Any, resolved: JSON
    ) -> Any:
        if otype not in (USER, CHANNEL, ROLE, MENTIONABLE):
            if otype == INTEGER:
                return int(value)
            if otype == NUMBER:
                return float(value)
            return value
        sid = int(getattr(value, "id", value))
        g = self.guild(guild_id)
        if otype == MENTIONABLE:
            otype = ROLE if sid in g.roles else USER
        if otype == USER:
            resolved.setdefault("users", {})[str(sid)] = self.user_payload(sid)
            if sid in g.members:
                m = self._member_payload(guild_id, sid, channel_id)
                m.pop("user", None)
                resolved.setdefault("members", {})[str(sid)] = m
        elif otype == ROLE:
            resolved.setdefault("roles", {})[str(sid)] = dict(self.role(guild_id, sid))
        elif otype == CHANNEL:
            ch = dict(self.channel(sid))
            ch["permissions"] = str(self.permissions_in(sid, self.bot_user_id))
            resolved.setdefault("channels", {})[str(sid)] = ch
        return str(sid)

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, UserOpt):
            return USER
        if isinstance(value, RoleOpt):
            return ROLE
        if isinstance(value, ChannelOpt):
            return CHANNEL
        if isinstance(value, MentionableOpt):
            return MENTIONABLE
        if isinstance(value, bool):
            return BOOLEAN
        if isinstance(value, int):
            return INTEGER
        if isinstance(value, float):
            return NUMBER
        return STRING

    def _build_options(
        self,
        guild_id: int,
        channel_id: int | None,
        defs: list[JSON],
        options: dict[str, Any],
        resolved: JSON,
        focused: str | None = None,
    ) -> list[JSON]:
        by_name = {d["name"]: d for d in defs}
        out: list[JSON] = []
        for name, value in options.items():
            d = by_name.get(name)
            if d is None and defs:
                raise AssertionError(f"option {name!r} not in synced definition {list(by_name)}")
            otype = int(d["type"]) if d else self._infer_type(value)
            if focused == name:
                out.append({"name": name, "type": otype, "value": str(value), "focused": True})
                continue
            opt = {
                "name": name,
                "type": otype,
                "value": self._resolve_value(guild_id, channel_id, otype, value, resolved),
            }
            out.append(opt)
        return out

    def _command_data(
        self,
        guild_id: int,
        channel_id: int | None,
        names: tuple[str, ...],
        options: dict[str, Any] | None,
        focused: str | None = None,
    ) -> JSON:
        if not names or len(names) > 3:
            raise ValueError("give 1-3 names: command [group] [subcommand]")
        cmd = self.find_command(names[0], guild_id)
        resolved: JSON = {}
        defs: list[JSON] = (cmd or {}).get("options") or []
        chain: list[tuple[str, int]] = []
        for sub in names[1:]:
            d = next((o for o in defs if o["name"] == sub), None)
            if cmd is not None and d is None:
                raise AssertionError(f"/{' '.join(names)}: {sub!r} not in synced command")
            stype = (
                int(d["type"])
                if d
                else (SUB_COMMAND_GROUP if len(chain) + 2 < len(names) else SUB_COMMAND)
            )
            chain.append((sub, stype))
            defs = (d or {}).get("options") or []
        leaf = self._build_options(guild_id, channel_id, defs, options or {}, resolved, focused)
        for sub, stype in reversed(chain):
            leaf = [{"name": sub, "type": stype, "options": leaf}]
        data: JSON = {
            "id": cmd["id"] if cmd else str(self.next_id()),
            "name": names[0],
            "type": 1,
            "options": leaf,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    async def _inject(self, handle: InteractionHandle) -> InteractionHandle:
        await self.dispatch("INTERACTION_CREATE", handle.payload)
        return handle

    async def slash(
        self,
        guild_id: int,
        user_id: int,
        *names: str,
        options: dict[str, Any] | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Injects ``/names... options`` as if ``user_id`` ran it in ``channel_id``."""
        data = self._command_data(guild_id, channel_id, names, options)
        return await self._inject(
            self._base_interaction(2, guild_id, user_id, channel_id, data, locale=locale)
        )

    async def autocomplete(
        self,
        guild_id: int,
        user_id: int,
        *names: str,
        focused: str,
        options: dict[str, Any] | None = None,
        channel_id: int | None = None,
    ) -> InteractionHandle:
        """Type 4 autocomplete; ``options[focused]`` is the partial text typed so far."""
        opts = dict(options or {})
        opts.setdefault(focused, "")
        data = self._command_data(guild_id, channel_id, names, opts, focused=focused)
        return await self._inject(self._base_interaction(4, guild_id, user_id, channel_id, data))

    async def context_menu(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        message_id: int | None = None,
        target_user_id: int | None = None,
        channel_id: int | None = None,
    ) -> InteractionHandle:
        """Message (type 3) or user (type 2) context-menu command."""
        ctype = 3 if message_id is not None else 2
        cmd = self.find_command(name, guild_id, type=ctype)
        resolved: JSON = {}
        if message_id is not None:
            msg = self._message_anywhere(message_id)
            target = str(message_id)
            resolved["messages"] = {target: msg}
        else:
            assert target_user_id is not None, "give message_id or target_user_id"
            target = self._resolve_value(guild_id, channel_id, USER, target_user_id, resolved)
        data = {
            "id": cmd["id"] if cmd else str(self.next_id()),
            "name": name,
            "type": ctype,
            "target_id": target,
            "resolved": resolved,
        }
        return await self._inject(self._base_interaction(2, guild_id, user_id, channel_id, data))

    def _message_anywhere(self, message_id: int) -> JSON:
        for msgs in self.messages.values():
            for m in msgs:
                if m["id"] == str(message_id):
                    return m
        raise KeyError(f"message {message_id} unknown to the fake")

    def _component_message(
        self, channel_id: int, message_id: int | None, custom_id: str, component_type: int
    ) -> JSON:
        if message_id is not None:
            try:
                return self._message_anywhere(message_id)
            except KeyError:
                pass
        # An unknown message (e.g. an ephemeral reply) still carries the component pressed:
        # people can only press what is on the message, and discord.py looks for it there.
        component: JSON = {"type": component_type, "custom_id": custom_id}
        if component_type == 2:
            component.update({"style": 1, "label": "button"})
        else:
            component.update(
                {"options": [], "min_values": 1, "max_values": 1} if component_type == 3 else {}
            )
        stub = self.message_payload(
            channel_id, {"content": "", "components": [{"type": 1, "components": [component]}]}
        )
        if message_id is not None:
            stub["id"] = str(message_id)
        return stub

    async def click(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        *,
        message_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Button press (component_type 2) on ``message_id`` (a stub message if unknown)."""
        return await self._component(
            guild_id, user_id, custom_id, 2, message_id, channel_id, None, locale=locale
        )

    async def select(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        values: list[Any],
        *,
        component_type: int = 3,
        message_id: int | None = None,
        channel_id: int | None = None,
    ) -> InteractionHandle:
        """Select menu: 3 string, 5 user, 6 role, 7 mentionable, 8 channel."""
        return await self._component(
            guild_id, user_id, custom_id, component_type, message_id, channel_id, values
        )

    async def _component(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        component_type: int,
        message_id: int | None,
        channel_id: int | None,
        values: list[Any] | None,
        *,
        locale: str = "en-US",
    ) -> InteractionHandle:
        cid = channel_id if channel_id is not None else self.guild(guild_id).general_channel_id
        if message_id is not None and channel_id is None:
            with contextlib.suppress(KeyError):
                cid = int(self._message_anywhere(message_id)["channel_id"])
        message = self._component_message(cid, message_id, custom_id, component_type)
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            resolved: JSON = {}
            otype = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}.get(component_type)
            data["values"] = [
                self._resolve_value(guild_id, cid, otype, v, resolved) if otype else str(v)
                for v in values
            ]
            if resolved:
                data["resolved"] = resolved
        return await self._inject(
            self._base_interaction(3, guild_id, user_id, cid, data, message=message, locale=locale)
        )

    async def submit_modal(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        fields: dict[str, str | list[str]],
        *,
        channel_id: int | None = None,
        message_id: int | None = None,
    ) -> InteractionHandle:
        """Modal submit (type 5): ``fields`` maps text-input custom_id -> value."""
        rows: list[JSON] = []
        for fid, value in fields.items():
            comp: JSON = (
                {"type": 3, "custom_id": fid, "values": value}
                if isinstance(value, list)
                else {"type": 4, "custom_id": fid, "value": value}
            )
            rows.append({"type": 1, "components": [comp]})
        data = {"custom_id": custom_id, "components": rows}
        message = None
        if message_id is not None:
            message = self._message_anywhere(message_id)
        return await self._inject(
            self._base_interaction(5, guild_id, user_id, channel_id, data, message=message)
        )

    # endpoints ----------------------------------------------------------------------------
    def _handle_for(self, req: Req) -> InteractionHandle:
        handle = self._by_token.get(req.params["token"])
        if handle is None:
            raise unknown("Webhook", 10015)
        return handle

    def _interaction_message(
        self, handle: InteractionHandle, body: JSON, files: Any, *, extra_flags: int = 0
    ) -> JSON:
        assert handle.channel_id is not None
        flags = int(body.get("flags") or 0) | extra_flags
        member = handle.payload.get("member") or {}
        msg = self.message_payload(
            handle.channel_id,
            {**body, "flags": flags},
            attachments=files,
            webhook_id=self.application_id,
            extra={
                "interaction_metadata": {
                    "id": str(handle.id),
                    "type": handle.type,
                    "user": member.get("user"),
                    "authorizing_integration_owners": handle.payload[
                        "authorizing_integration_owners"
                    ],
                },
            },
        )
        return self.store_message(msg)

    async def _callback(self, req: Req) -> JSON:
        handle = self.interactions.get(int(req.params["interaction_id"]))
        if handle is None or handle.token != req.params["token"]:
            raise unknown("interaction", 10062)
        if handle.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.body()
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        await handle._record("callback", body)
        resource: JSON = {"type": ctype}
        message: JSON | None = None
        loading = False
        if ctype == 4:
            message = self._interaction_message(handle, data, req.files)
        elif ctype == 5:
            loading = True
            message = self._interaction_message(
                handle, {"content": "", "flags": data.get("flags")}, [], extra_flags=LOADING
            )
        elif ctype in (6, 7):
            # A component's deferred update (6) or update (7): "@original" is then the message
            # the component is on, as on Discord.
            original = handle.payload.get("message")
            if original is not None:
                try:
                    message = self._message_anywhere(int(original["id"]))
                except KeyError:
                    message = original
                if ctype == 7:
                    self.apply_message_edit(message, data, req.files)
        if message is not None:
            handle.original_message = message
            resource["message"] = message
        ephemeral = bool(int((message or {}).get("flags") or 0) & EPHEMERAL)
        return {
            "interaction": {
                "id": str(handle.id),
                "type": handle.type,
                "activity_instance_id": None,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": loading,
                "response_message_ephemeral": ephemeral,
            },
            "resource": resource,
        }

    async def _followup(self, req: Req) -> JSON | None:
        handle = self._handle_for(req)
        body = req.body()
        msg = self._interaction_message(handle, body, req.files)
        handle.followups.append(msg)
        await handle._record("followup", body)
        return msg

    def _webhook_target(self, handle: InteractionHandle, message_id: str) -> JSON:
        if message_id == "@original":
            if handle.original_message is None:
                raise unknown("Message", 10008)
            return handle.original_message
        for m in [
            *([handle.original_message] if handle.original_message else []),
            *handle.followups,
        ]:
            if m["id"] == message_id:
                return m
        raise unknown("Message", 10008)

    async def _get_webhook_msg(self, req: Req) -> JSON:
        handle = self._handle_for(req)
        return self._webhook_target(handle, req.params["message_id"])

    async def _edit_webhook_msg(self, req: Req) -> JSON:
        handle = self._handle_for(req)
        msg = self._webhook_target(handle, req.params["message_id"])
        body = req.body()
        self.apply_message_edit(msg, body, req.files)
        msg["flags"] = int(msg.get("flags") or 0) & ~LOADING
        await handle._record("edit", {"message_id": req.params["message_id"], **body})
        return msg

    async def _del_webhook_msg(self, req: Req) -> None:
        handle = self._handle_for(req)
        msg = self._webhook_target(handle, req.params["message_id"])
        msgs = self.messages.get(int(msg["channel_id"]), [])
        if msg in msgs:
            msgs.remove(msg)
        await handle._record("delete", {"message_id": req.params["message_id"]})
