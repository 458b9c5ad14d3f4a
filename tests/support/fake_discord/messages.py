"""Messages: payloads (with attachments), the channel message routes (send with nonces, edit,
delete, history, reactions) and ``user_says``, a member posting in a channel."""

from __future__ import annotations

import time
from collections.abc import Iterable

from .channels import CHANNEL_DM, ChannelsMixin
from .common import JSON, now_iso
from .errors import ApiError, missing_access, missing_permissions, unknown
from .members import without_user
from .permissions import MANAGE_MESSAGES, SEND_MESSAGES, VIEW_CHANNEL
from .routing import RecordedFile, Req, RouteSpec

NONCE_WINDOW_SECONDS = 300.0


class MessagesMixin(ChannelsMixin):
    #: How long (monotonic seconds) a nonce sent with `enforce_nonce` is remembered.
    nonce_window_seconds: float = NONCE_WINDOW_SECONDS

    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        super().__init__(bot_name=bot_name)
        self._nonces: dict[tuple[int, str], tuple[float, JSON]] = {}

    def route_table(self) -> list[RouteSpec]:
        message = "/channels/{channel_id}/messages/{message_id}"
        return [
            *super().route_table(),
            ("GET", "/channels/{channel_id}/messages", self._history),
            ("POST", "/channels/{channel_id}/messages", self._send_message),
            ("GET", message, self._get_message),
            ("PATCH", message, self._edit_message),
            ("DELETE", message, self._delete_message),
            ("PUT", message + "/reactions/{emoji}/@me", self._no_content),
            ("DELETE", message + "/reactions/{emoji}/@me", self._no_content),
        ]

    def message_payload(
        self,
        channel_id: int,
        body: JSON,
        *,
        author_id: int | None = None,
        attachments: list[RecordedFile] | None = None,
        webhook_id: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        ch = self.channel(channel_id)
        mid = self.next_id()
        atts: list[JSON] = []
        for i, f in enumerate(attachments or []):
            aid = self.next_id()
            meta: JSON = next(
                (
                    a
                    for a in body.get("attachments") or []
                    if str(a.get("id")) == str(i) or a.get("filename") == f.filename
                ),
                {},
            )
            atts.append(
                {
                    "id": str(aid),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": f"https://cdn.discordapp.com/attachments/{channel_id}/{aid}/{f.filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/{channel_id}/{aid}/{f.filename}",
                    "content_type": f.content_type,
                    "description": meta.get("description"),
                }
            )
        msg: JSON = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.user_payload(author_id or self.bot_user_id),
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": atts,
            "embeds": list(body.get("embeds") or []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "components": list(body.get("components") or []),
        }
        if "guild_id" in ch:
            msg["guild_id"] = ch["guild_id"]
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if webhook_id is not None:
            msg["webhook_id"] = str(webhook_id)
            msg["application_id"] = str(self.application_id)
        if extra:
            msg.update(extra)
        return msg

    def store_message(self, msg: JSON) -> JSON:
        cid = int(msg["channel_id"])
        self.messages.setdefault(cid, []).append(msg)
        if cid in self.channels:
            self.channels[cid]["last_message_id"] = msg["id"]
        return msg

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

    async def dispatch_message_create(self, msg: JSON, author_id: int) -> None:
        """MESSAGE_CREATE with the author's member data (roles) in a server, as Discord does."""
        event: JSON = dict(msg)
        if "guild_id" in msg:
            event["member"] = without_user(self.guild(int(msg["guild_id"])).members.get(author_id))
        await self.dispatch("MESSAGE_CREATE", event)

    # queries ------------------------------------------------------------------------------
    def find_message(self, channel_id: int, message_id: int | str) -> JSON:
        for m in self.messages.get(int(channel_id), []):
            if m["id"] == str(message_id):
                return m
        raise unknown("Message", 10008)

    def message_anywhere(self, message_id: int) -> JSON:
        """A message in any channel (KeyError when the fake never saw it)."""
        for msgs in self.messages.values():
            for m in msgs:
                if m["id"] == str(message_id):
                    return m
        raise KeyError(f"message {message_id} unknown to the fake")

    def messages_in(self, channel_id: int) -> list[JSON]:
        """Non-ephemeral + ephemeral messages posted in a channel, oldest first."""
        return list(self.messages.get(int(channel_id), []))

    def dms_to(self, user_id: int) -> list[JSON]:
        cid = self.dm_channels.get(user_id)
        return [] if cid is None else list(self.messages.get(cid, []))

    # routes -------------------------------------------------------------------------------
    async def _no_content(self, req: Req) -> None:
        return None

    def _check_send(self, channel: JSON) -> None:
        if channel["type"] == CHANNEL_DM:
            recipient = int(channel["recipients"][0]["id"])
            if recipient in self.closed_dm_users:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        if "guild_id" in channel and self.enforce_permissions:
            perms = self.permissions_in(int(channel["id"]), self.bot_user_id)
            if not perms & VIEW_CHANNEL:
                raise missing_access()
            if not perms & SEND_MESSAGES:
                raise missing_permissions()

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
        await self.dispatch_message_create(msg, self.bot_user_id)
        return msg

    async def _history(self, req: Req) -> list[JSON]:
        cid = req.int_param("channel_id")
        self.channel(cid)
        limit = int(req.query.get("limit", "50"))
        msgs = list(reversed(self.messages.get(cid, [])))
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            # As Discord: the `limit` messages right after `after` (its oldest ones), newest
            # first; discord.py pages forward from the newest of them.
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])][-limit:]
        # As Discord: a message's nonce is not kept, only echoed when it is made (in the
        # response and MESSAGE_CREATE), so history shows none.
        return [{k: v for k, v in m.items() if k != "nonce"} for m in msgs[:limit]]

    async def _get_message(self, req: Req) -> JSON:
        return self.find_message(req.int_param("channel_id"), req.params["message_id"])

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
            self.require(int(msg["guild_id"]), MANAGE_MESSAGES, cid)
        self.messages[cid].remove(msg)
        event: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if "guild_id" in msg:
            event["guild_id"] = msg["guild_id"]
        await self.dispatch("MESSAGE_DELETE", event)


async def user_says(
    fake: MessagesMixin,
    channel_id: int,
    author_id: int,
    content: str,
    *,
    mentions: Iterable[int] = (),
    mention_roles: Iterable[int] = (),
    mention_everyone: bool = False,
) -> JSON:
    """A member posting in a channel: stored (so DELETE finds it) and sent to the bot."""
    msg = fake.message_payload(channel_id, {"content": content}, author_id=author_id)
    msg["mentions"] = [fake.user_payload(u) for u in mentions]
    msg["mention_roles"] = [str(r) for r in mention_roles]
    msg["mention_everyone"] = mention_everyone
    fake.store_message(msg)
    if "guild_id" in msg:
        fake.member(int(msg["guild_id"]), author_id)  # 10007 Unknown Member otherwise
    await fake.dispatch_message_create(msg, author_id)
    return msg
