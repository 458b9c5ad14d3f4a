"""Interactions a test injects as a member would make them (slash commands, autocomplete,
context menus, buttons, selects, modal submits), and the handle that collects the bot's
answers. The answering endpoints live in ``interaction_responses``."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from .common import JSON
from .messages import MessagesMixin
from .options import CHANNEL, MENTIONABLE, ROLE, USER, OptionsMixin

EPHEMERAL = 1 << 6
LOADING = 1 << 7

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
BUTTON, STRING_SELECT = 2, 3
#: Select menus whose values are snowflakes, by component type, as option types.
_SELECT_OPTION_TYPES = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}


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


class InteractionsMixin(OptionsMixin, MessagesMixin):
    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        super().__init__(bot_name=bot_name)
        self.interactions: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}

    def interaction_responses(self, interaction_id: int) -> list[Any]:
        """Callback + followup/edit bodies for an interaction, in order."""
        return self.interactions[interaction_id].all_bodies()

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
            "member": self.member_with_permissions(guild_id, user_id, cid),
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

    async def _inject(self, handle: InteractionHandle) -> InteractionHandle:
        await self.dispatch("INTERACTION_CREATE", handle.payload)
        return handle

    # commands -----------------------------------------------------------------------------
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
            self._base_interaction(
                APPLICATION_COMMAND, guild_id, user_id, channel_id, data, locale=locale
            )
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
        return await self._inject(
            self._base_interaction(AUTOCOMPLETE, guild_id, user_id, channel_id, data)
        )

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
            msg = self.message_anywhere(message_id)
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
        return await self._inject(
            self._base_interaction(APPLICATION_COMMAND, guild_id, user_id, channel_id, data)
        )

    # components ---------------------------------------------------------------------------
    def _component_message(
        self, channel_id: int, message_id: int | None, custom_id: str, component_type: int
    ) -> JSON:
        if message_id is not None:
            with contextlib.suppress(KeyError):
                return self.message_anywhere(message_id)
        # An unknown message (e.g. an ephemeral reply) still carries the component pressed:
        # people can only press what is on the message, and discord.py looks for it there.
        component: JSON = {"type": component_type, "custom_id": custom_id}
        if component_type == BUTTON:
            component.update({"style": 1, "label": "button"})
        elif component_type == STRING_SELECT:
            component.update({"options": [], "min_values": 1, "max_values": 1})
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
            guild_id, user_id, custom_id, BUTTON, message_id, channel_id, None, locale=locale
        )

    async def select(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        values: list[Any],
        *,
        component_type: int = STRING_SELECT,
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
                cid = int(self.message_anywhere(message_id)["channel_id"])
        message = self._component_message(cid, message_id, custom_id, component_type)
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            resolved: JSON = {}
            otype = _SELECT_OPTION_TYPES.get(component_type)
            data["values"] = [
                self._resolve_value(guild_id, cid, otype, v, resolved) if otype else str(v)
                for v in values
            ]
            if resolved:
                data["resolved"] = resolved
        return await self._inject(
            self._base_interaction(
                MESSAGE_COMPONENT, guild_id, user_id, cid, data, message=message, locale=locale
            )
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
            message = self.message_anywhere(message_id)
        return await self._inject(
            self._base_interaction(
                MODAL_SUBMIT, guild_id, user_id, channel_id, data, message=message
            )
        )
