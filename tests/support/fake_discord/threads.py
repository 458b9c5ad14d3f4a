"""Thread routes for the fake Discord, with Discord's visibility rules for private threads.

Tests install them with ``install(fake)``. What is modelled:

- ``POST /channels/{id}/threads`` creates a thread (type 12 needs Create Private Threads, 11
  Create Public Threads; private threads only under plain text channels).
- A private thread is visible only to its members and to people with Manage Threads in the
  parent, and only if they can view the parent; posting in a thread needs Send Messages in
  Threads. ``fake.permissions_in`` answers accordingly for threads (so the care check on
  "public" posts sees a private thread as private).
- ``PUT /channels/{id}/thread-members/{user}`` adds a member.
- A message in a private thread adds the people it mentions, as Discord does, but only the
  mentions ``allowed_mentions`` lets through; a role mention does so only when the role is
  mentionable or the sender has Mention Everyone, and adds only members who can see the parent.
- ``DELETE /channels/{id}`` on a thread needs Manage Threads.
"""

from __future__ import annotations

import re
from typing import Any

from .channels import CHANNEL_ANNOUNCEMENT, CHANNEL_TEXT, PRIVATE_THREAD, THREAD_TYPES
from .common import JSON, now_iso
from .errors import ApiError, missing_access, unknown
from .permissions import (
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    MANAGE_THREADS,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from .routing import Req
from .server import FakeDiscord

WRONG_CHANNEL_TYPE = ApiError(400, 50024, "Cannot execute action on this channel type")

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def install(fake: FakeDiscord) -> None:
    members: dict[int, set[int]] = {}  # thread id -> member user ids
    fake.thread_members = members  # type: ignore[attr-defined]
    channel_permissions = fake.permissions_in  # the plain (non-thread) rules

    def is_thread(channel: JSON) -> bool:
        return int(channel.get("type", -1)) in THREAD_TYPES

    def permissions_in(channel_id: int, user_id: int) -> int:
        channel = fake.channel(channel_id)
        if not is_thread(channel):
            return channel_permissions(channel_id, user_id)
        perms = channel_permissions(int(channel["parent_id"]), user_id)
        if not perms & VIEW_CHANNEL:
            return 0
        private = channel["type"] == PRIVATE_THREAD
        if private and user_id not in members[int(channel_id)] and not perms & MANAGE_THREADS:
            return 0
        # Inside a thread, Send Messages in Threads is what lets one post.
        return (perms & ~SEND_MESSAGES) | (SEND_MESSAGES if perms & SEND_MESSAGES_IN_THREADS else 0)

    fake.permissions_in = permissions_in  # type: ignore[method-assign]

    def thread(req: Req) -> JSON:
        channel = fake.channel(req.int_param("channel_id"))
        if not is_thread(channel):
            raise WRONG_CHANNEL_TYPE
        return channel

    async def create_thread(req: Req) -> tuple[int, JSON]:
        parent_id = req.int_param("channel_id")
        parent = fake.channel(parent_id)
        if "guild_id" not in parent:
            raise WRONG_CHANNEL_TYPE
        body = req.body()
        kind = int(body.get("type") or PRIVATE_THREAD)
        if parent["type"] != CHANNEL_TEXT and not (
            parent["type"] == CHANNEL_ANNOUNCEMENT and kind != PRIVATE_THREAD
        ):
            raise WRONG_CHANNEL_TYPE
        gid = int(parent["guild_id"])
        needed = CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        fake.require(gid, needed, parent_id)
        tid = fake.next_id()
        now = now_iso()
        payload: JSON = {
            "id": str(tid),
            "type": kind,
            "guild_id": str(gid),
            "parent_id": str(parent_id),
            "owner_id": str(fake.bot_user_id),
            "name": body["name"],
            "last_message_id": None,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": now,
                "locked": False,
                "invitable": bool(body.get("invitable", True)),
                "create_timestamp": now,
            },
        }
        # Threads live beside the guild's channel list (Discord sends them apart, too).
        fake.channels[tid] = payload
        fake.messages[tid] = []
        members[tid] = {fake.bot_user_id}
        await fake.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        member = {"id": str(tid), "user_id": str(fake.bot_user_id), "join_timestamp": now}
        return 201, {**payload, "member": {**member, "flags": 0}}

    def require_in_thread(channel: JSON) -> None:
        if channel["thread_metadata"]["archived"]:
            raise ApiError(400, 50083, "Thread is archived")
        if not permissions_in(int(channel["id"]), fake.bot_user_id) & VIEW_CHANNEL:
            raise missing_access()

    async def add_thread_member(req: Req) -> None:
        channel = thread(req)
        require_in_thread(channel)
        uid = req.int_param("user_id")
        fake.member(int(channel["guild_id"]), uid)  # 10007 Unknown Member otherwise
        members[int(channel["id"])].add(uid)
        channel["member_count"] = len(members[int(channel["id"])])

    def mentioned(body: JSON, content: str, channel: JSON) -> set[int]:
        """Who a message brings into a private thread, under Discord's rules."""
        allowed = body.get("allowed_mentions")
        parse = set(allowed.get("parse") or []) if allowed else {"users", "roles", "everyone"}
        allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        gid, parent = int(channel["guild_id"]), int(channel["parent_id"])
        guild = fake.guild(gid)
        sender_can_ping = bool(channel_permissions(parent, fake.bot_user_id) & MENTION_EVERYONE)
        found: set[int] = set()
        for text in _USER_MENTION.findall(content):
            uid = int(text)
            if "users" in parse or uid in allowed_users:
                found.add(uid)
        for text in _ROLE_MENTION.findall(content):
            rid = int(text)
            role = guild.roles.get(rid)
            if role is None or not ("roles" in parse or rid in allowed_roles):
                continue
            if not (role["mentionable"] or sender_can_ping):
                continue
            found |= {uid for uid, m in guild.members.items() if str(rid) in m["roles"]}
        return {
            uid
            for uid in found
            if uid in guild.members and channel_permissions(parent, uid) & VIEW_CHANNEL
        }

    async def send_message(req: Req) -> Any:
        channel = fake.channel(req.int_param("channel_id"))
        if not is_thread(channel):
            return await fake._send_message(req)
        require_in_thread(channel)
        message = await fake._send_message(req)  # checks Send Messages in Threads, stores
        if channel["type"] == PRIVATE_THREAD:
            added = mentioned(req.body(), str(req.body().get("content") or ""), channel)
            members[int(channel["id"])] |= added
        channel["message_count"] = int(channel["message_count"]) + 1
        return message

    async def delete_channel(req: Req) -> Any:
        channel = fake.channel(req.int_param("channel_id"))
        if not is_thread(channel):
            return await fake._delete_channel(req)
        fake.require(int(channel["guild_id"]), MANAGE_THREADS, int(channel["parent_id"]))
        tid = int(channel["id"])
        del fake.channels[tid]
        members.pop(tid, None)
        await fake.dispatch(
            "THREAD_DELETE",
            {
                "id": str(tid),
                "guild_id": channel["guild_id"],
                "parent_id": channel["parent_id"],
                "type": channel["type"],
            },
        )
        return channel

    async def get_thread_member(req: Req) -> JSON:
        channel = thread(req)
        uid = req.int_param("user_id")
        if uid not in members[int(channel["id"])]:
            raise unknown("Member", 10007)
        return {"id": channel["id"], "user_id": str(uid), "join_timestamp": now_iso(), "flags": 0}

    fake.add_route("POST", "/channels/{channel_id}/threads", create_thread)
    fake.add_route("PUT", "/channels/{channel_id}/thread-members/{user_id}", add_thread_member)
    fake.add_route("GET", "/channels/{channel_id}/thread-members/{user_id}", get_thread_member)
    fake.add_route("POST", "/channels/{channel_id}/messages", send_message)
    fake.add_route("DELETE", "/channels/{channel_id}", delete_channel)
