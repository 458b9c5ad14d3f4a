"""How the bot answers interactions: POST /interactions/{id}/{token}/callback, and the
webhook routes for follow-ups and the original response (get, edit, delete)."""

from __future__ import annotations

from typing import Any

from .common import JSON
from .errors import ApiError, unknown
from .interactions import EPHEMERAL, LOADING, InteractionHandle, InteractionsMixin
from .routing import Req, RouteSpec

CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE = 4, 5
DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 6, 7


class InteractionResponsesMixin(InteractionsMixin):
    def route_table(self) -> list[RouteSpec]:
        webhook_message = "/webhooks/{app}/{token}/messages/{message_id}"
        return [
            *super().route_table(),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", webhook_message, self._get_webhook_msg),
            ("PATCH", webhook_message, self._edit_webhook_msg),
            ("DELETE", webhook_message, self._del_webhook_msg),
        ]

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

    # routes -------------------------------------------------------------------------------
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
        if ctype == CHANNEL_MESSAGE:
            message = self._interaction_message(handle, data, req.files)
        elif ctype == DEFERRED_CHANNEL_MESSAGE:
            loading = True
            message = self._interaction_message(
                handle, {"content": "", "flags": data.get("flags")}, [], extra_flags=LOADING
            )
        elif ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            # A component's deferred update (6) or update (7): "@original" is then the message
            # the component is on, as on Discord.
            original = handle.payload.get("message")
            if original is not None:
                try:
                    message = self.message_anywhere(int(original["id"]))
                except KeyError:
                    message = original
                if ctype == UPDATE_MESSAGE:
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
